"""MFA enforcement (C13): a staff session that has not passed the second factor reaches no admin
page, and the MFA step counts towards the login lockout (C11).

Staff and partner users (is_staff) are logged in by the password step and then "verified" by
django-otp once they pass a TOTP or backup code: OTPMiddleware reads the device from the session
and installs `request.user.is_verified()`. Three layers refuse an unverified session, each on
its own enough:

1. `MFARequiredMiddleware`: any request under MFA_REQUIRED_PATHS (the admin) is sent to the MFA
   step before a view runs, so no changelist, form, action, autocomplete or custom admin URL
   answers and no POST is processed (401 JSON for API clients). The admin login (which hands
   over to the MFA step itself) and logout are let through.
2. `security.admin_site.MFAAdminSite.has_permission` also requires a verified session.
3. A session that had passed MFA and whose device has gone since (an operator reset it) is
   logged out, so the next enrolment needs the password again.

The MFA pages (code form, enrolment) belong to accounts; this module knows them only by URL name
(settings.MFA_VERIFY_URL). Those pages mark a session verified with `mfa_session_verified`, and
count wrong codes towards the lockout with security.lockout's step functions (STEP_MFA).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import resolve_url
from django.urls import reverse
from django_otp import login as otp_login
from django_otp.models import Device

from security.middleware import wants_json
from security.sessions import session_cookie_sent

# Set when a session passes MFA; lets the middleware tell "never verified" from "verified by a
# device that has since been removed".
MFA_PASSED = "_security_mfa_passed"


def is_verified(user: Any) -> bool:
    """Whether the session passed MFA. A user object that did not come through OTPMiddleware
    (e.g. just set by django.contrib.auth.login) counts as not verified."""
    check = getattr(user, "is_verified", None)
    return bool(check()) if callable(check) else False


def mfa_required(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_staff)


def mfa_pending(request: HttpRequest) -> bool:
    """Logged in with the password but not (yet) through the MFA step."""
    user = getattr(request, "user", None)
    return mfa_required(user) and not is_verified(user)


def mfa_step_url(next_url: str | None = None) -> str:
    url = resolve_url(settings.MFA_VERIFY_URL)
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def mfa_session_verified(request: HttpRequest, device: Device) -> None:
    """The session passed MFA with `device`: django-otp keeps the device in the session, and the
    session gets a new id (a privilege change, like the login itself)."""
    otp_login(request, device)
    request.session[MFA_PASSED] = True
    request.session.cycle_key()


@lru_cache(maxsize=4)
def _compiled(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in patterns)


def _protected(path: str) -> bool:
    return any(p.match(path) for p in _compiled(tuple(settings.MFA_REQUIRED_PATHS)))


def _refuse(request: HttpRequest) -> HttpResponse:
    # A POST is never replayed after the MFA step: the user comes back to the page, not the action.
    next_url = request.get_full_path() if request.method == "GET" else request.path
    url = mfa_step_url(next_url)
    if wants_json(request):
        message = "This needs a session that passed multi-factor authentication."
        return JsonResponse(
            {"error": "mfa_required", "message": message, "mfa_url": url}, status=401
        )
    return HttpResponseRedirect(url)


def _device_removed(request: HttpRequest) -> HttpResponse:
    logout(request)  # flushes the session in the store
    messages.warning(request, "Your two-factor authentication was reset. Please log in again.")
    return HttpResponseRedirect(resolve_url(settings.LOGIN_URL))


class MFARequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Only a request with a session cookie can have passed MFA; not reading the session of
        # the others keeps anonymous public answers free of `Vary: Cookie`.
        session = getattr(request, "session", None)
        passed_before = (
            session is not None and session_cookie_sent(request) and session.get(MFA_PASSED, False)
        )
        if passed_before or _protected(request.path_info):
            if mfa_pending(request):
                if passed_before:
                    return _device_removed(request)
                if request.path_info not in (reverse("admin:login"), reverse("admin:logout")):
                    return _refuse(request)
        return self.get_response(request)
