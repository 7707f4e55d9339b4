"""Session limits for staff and partner users (C14), enforced on the server.

Two timestamps live in the session itself (so every app server sees them): when the user logged
in and when they were last seen. A session idle for SESSION_IDLE_TIMEOUT_MINUTES, or older than
SESSION_MAX_AGE_HOURS since login, is flushed from the session store (not merely forgotten by the
browser) and the user is sent back to the login page with a message (401 JSON for API clients).

"Last seen" is written at most once a minute, so a session may end up to a minute before the
full idle time; in exchange a busy page does not write its session on every request.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import resolve_url
from django.utils import timezone

from security.middleware import wants_json

LOGIN_AT = "_security_login_at"
SEEN_AT = "_security_seen_at"
SEEN_RESOLUTION_SECONDS = 60


def session_cookie_sent(request: HttpRequest) -> bool:
    """Whether the request can have a session at all. Without the cookie the session is empty
    (nobody is logged in, nothing passed MFA), so middleware can skip it without reading it:
    reading it would add `Vary: Cookie` to every anonymous public answer and keep shared caches
    from serving them.

    Paths of SESSIONLESS_PATHS (URLs that are their own credential, read by programs: calendar
    feeds) never have one, cookie or not: their answers neither depend on a session nor renew
    its cookie (no `Vary: Cookie`, no `Set-Cookie`)."""
    if any(re.match(pattern, request.path_info) for pattern in settings.SESSIONLESS_PATHS):
        return False
    return settings.SESSION_COOKIE_NAME in request.COOKIES


def session_mark_login(request: HttpRequest) -> None:
    """Called on user_logged_in (security.signals): the absolute lifetime starts now."""
    now = timezone.now().timestamp()
    request.session[LOGIN_AT] = now
    request.session[SEEN_AT] = now


def _ended(request: HttpRequest, reason: str) -> HttpResponse:
    logout(request)  # flushes the session in the store and sends user_logged_out
    if reason == "idle":
        message = "You were logged out after a period of inactivity. Please log in again."
    else:
        message = "Your session reached its maximum length. Please log in again."
    if wants_json(request):
        return JsonResponse(
            {"error": "session_expired", "reason": reason, "message": message}, status=401
        )
    messages.warning(request, message)
    return HttpResponseRedirect(
        f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': request.get_full_path()})}"
    )


class SessionLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not session_cookie_sent(request):  # no session, no limits to apply
            return self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_staff:
            session = request.session
            now = timezone.now().timestamp()
            login_at = session.get(LOGIN_AT)
            seen_at = session.get(SEEN_AT)
            if login_at is None:  # a session older than these limits: they start now
                session[LOGIN_AT] = login_at = now
            if now - login_at > settings.SESSION_MAX_AGE_HOURS * 3600:
                return _ended(request, "expired")
            if seen_at is not None and now - seen_at > settings.SESSION_IDLE_TIMEOUT_MINUTES * 60:
                return _ended(request, "idle")
            if seen_at is None or now - seen_at >= SEEN_RESOLUTION_SECONDS:
                session[SEEN_AT] = now
        return self.get_response(request)
