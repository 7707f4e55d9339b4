"""Account pages in the admin's look. MFA (C13): the code step after the password, enrolment of
an authenticator app (QR code as SVG from its own no-store URL, the secret for typing in), backup
codes. Password reset for staff (C11, C12). Enforcement (which sessions may reach the admin) is
in security.mfa, the lockout in security.lockout; these views call them.

Pages that show a secret (enrolment, QR code, backup codes) are never cached (no-store).
"""

from __future__ import annotations

import io
import math
from base64 import b32encode
from collections.abc import Callable
from functools import wraps
from typing import Any, Concatenate, ParamSpec, cast
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.generic.base import ContextMixin

from accounts import selectors, services
from accounts.forms import MfaCodeForm, MfaEnrolForm, PasswordResetRequestForm
from accounts.models import User
from security.actors import Actor, Via
from security.client_ip import client_ip
from security.lockout import STEP_MFA, STEP_PASSWORD_RESET, step_failed, step_locked_refusal
from security.mfa import is_verified, mfa_session_verified
from security.password_change import AuditedSetPasswordForm

PENDING_DEVICE = "_accounts_mfa_pending_device"
FEW_BACKUP_CODES = 3
P = ParamSpec("P")


class StaffRequest(HttpRequest):
    """A request `_staff_only` let through: its user is a logged-in, active staff user."""

    user: User


def _staff_only(
    view: Callable[Concatenate[StaffRequest, P], HttpResponse],
) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """Logged in (at least with the password) as staff: these pages exist for no one else."""

    @wraps(view)
    def inner(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        if not (user.is_active and getattr(user, "is_staff", False)):
            raise Http404
        # Authenticated users are instances of AUTH_USER_MODEL, accounts.User.
        return view(cast(StaffRequest, request), *args, **kwargs)

    return inner


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("admin:index")


def _url(name: str, next_url: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


def _page(request: HttpRequest, template: str, title: str, **context: Any) -> HttpResponse:
    return render(
        request, template, {**admin.site.each_context(request), "title": title, **context}
    )


def _refusal(refused: services.CodeRefused, wrong: str) -> str:
    if refused.retry_at is None:
        return _("%(wrong)s Type the code your app shows now.") % {"wrong": wrong}
    seconds = max(1, math.ceil((refused.retry_at - timezone.now()).total_seconds()))
    return ngettext(
        "Too many wrong codes in a row: wait %(seconds)d second, then try again.",
        "Too many wrong codes in a row: wait %(seconds)d seconds, then try again.",
        seconds,
    ) % {"seconds": seconds}


def _backup_codes_page(
    request: HttpRequest, codes: list[str], next_url: str, *, enrolled: bool
) -> HttpResponse:
    title = _("Two-factor authentication is on") if enrolled else _("New backup codes")
    return _page(
        request,
        "accounts/mfa_backup_codes.html",
        title,
        codes=codes,
        next=next_url,
        enrolled=enrolled,
    )


@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "HEAD", "POST"])
@_staff_only
def mfa_verify(request: StaffRequest) -> HttpResponse:
    """The MFA step after the password. A locked address is refused before any code is checked;
    a wrong code counts towards the lockout like a wrong password."""
    user, next_url = request.user, _next_url(request)
    if is_verified(user):
        return HttpResponseRedirect(next_url)
    if not selectors.mfa_enrolled(user=user):
        return HttpResponseRedirect(_url("accounts:mfa-enrol", next_url))
    refusal = step_locked_refusal(
        request, username=user.get_username(), step=STEP_MFA, attempt=request.method == "POST"
    )
    if refusal is not None:
        return refusal
    form = MfaCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            check = services.mfa_check_code(
                user=user,
                method=form.cleaned_data["method"],
                code=form.cleaned_data["code"],
                ip=client_ip(request),
            )
        except services.CodeRefused as refused:
            step_failed(request, username=user.get_username(), step=STEP_MFA)
            form.add_error(
                "code", _refusal(refused, _("That code is not valid, or was used already."))
            )
        else:
            mfa_session_verified(request, check.device)
            if check.backup_codes_left is not None and check.backup_codes_left <= FEW_BACKUP_CODES:
                messages.warning(
                    request,
                    _(
                        "You have %(left)d backup codes left: make new ones under Two-factor "
                        "authentication."
                    )
                    % {"left": check.backup_codes_left},
                )
            return HttpResponseRedirect(next_url)
    return _page(
        request,
        "accounts/mfa_verify.html",
        _("Two-factor authentication"),
        form=form,
        next=next_url,
    )


@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "HEAD", "POST"])
@_staff_only
def mfa_enrol(request: StaffRequest) -> HttpResponse:
    """Set up an authenticator app: at the first login, or later to replace it (from a verified
    session only: an enrolled user proves the current factor before changing it)."""
    user, next_url = request.user, _next_url(request)
    if not is_verified(user) and selectors.mfa_enrolled(user=user):
        return HttpResponseRedirect(_url("accounts:mfa-verify", next_url))
    refusal = step_locked_refusal(
        request, username=user.get_username(), step=STEP_MFA, attempt=False
    )
    if refusal is not None:
        return refusal
    device = services.mfa_enrolment_start(
        user=user, pending_device_id=request.session.get(PENDING_DEVICE)
    )
    request.session[PENDING_DEVICE] = device.pk
    form = MfaEnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            enrolment = services.mfa_enrolment_confirm(
                user=user,
                device_id=device.pk,
                code=form.cleaned_data["code"],
                ip=client_ip(request),
            )
        except services.CodeRefused as refused:
            form.add_error(
                "code",
                _refusal(
                    refused, "That code does not match: check that your phone's clock is right."
                ),
            )
        else:
            request.session.pop(PENDING_DEVICE, None)
            mfa_session_verified(request, enrolment.device)
            return _backup_codes_page(request, enrolment.backup_codes, next_url, enrolled=True)
    secret = b32encode(device.bin_key).decode()
    return _page(
        request,
        "accounts/mfa_enrol.html",
        _("Set up two-factor authentication"),
        form=form,
        next=next_url,
        secret_groups=[secret[i : i + 4] for i in range(0, len(secret), 4)],
        issuer=settings.OTP_TOTP_ISSUER,
    )


@never_cache
@require_safe
@_staff_only
def mfa_enrol_qr(request: StaffRequest) -> HttpResponse:
    """The pending authenticator's otpauth:// URL as a QR code (SVG, no script)."""
    user = request.user
    device = selectors.mfa_pending_device(user=user, device_id=request.session.get(PENDING_DEVICE))
    # As on the enrolment page: an enrolled user proves the current factor before a new one.
    if device is None or (not is_verified(user) and selectors.mfa_enrolled(user=user)):
        raise Http404(_("No enrolment in progress."))
    svg = io.BytesIO()
    # Module size 8, the standard 4-module quiet zone; the page's CSS paints it white.
    segno.make(device.config_url, error="m").save(svg, kind="svg", scale=8, border=4)
    return HttpResponse(svg.getvalue(), content_type="image/svg+xml")


@never_cache
@require_safe
@_staff_only
def mfa_settings(request: StaffRequest) -> HttpResponse:
    if not is_verified(request.user):
        return HttpResponseRedirect(_url("accounts:mfa-verify", request.get_full_path()))
    status = selectors.mfa_status(user=request.user)
    return _page(
        request, "accounts/mfa_settings.html", _("Two-factor authentication"), status=status
    )


@never_cache
@require_POST
@_staff_only
def mfa_backup_codes(request: StaffRequest) -> HttpResponse:
    """New backup codes, shown once; the old ones stop working."""
    if not is_verified(request.user):
        return HttpResponseRedirect(_url("accounts:mfa-verify", reverse("accounts:mfa-settings")))
    codes = services.mfa_backup_codes_regenerate(user=request.user, ip=client_ip(request))
    return _backup_codes_page(request, codes, reverse("admin:index"), enrolled=False)


# --- Password reset (staff) -----------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def password_reset_request(request: HttpRequest) -> HttpResponse:
    """Ask for a reset link. The answer is the same whether or not the address has an account;
    a locked address is refused (a reset link is a way in like the password)."""
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST":
        refusal = step_locked_refusal(
            request,
            username=str(request.POST.get("email", ""))[:254],
            step=STEP_PASSWORD_RESET,
            attempt=False,
        )
        if refusal is not None:
            return refusal
    if request.method == "POST" and form.is_valid():
        services.password_reset_request(email=form.cleaned_data["email"])
        return HttpResponseRedirect(reverse("accounts:password-reset-done"))
    return _page(request, "registration/password_reset_form.html", _("Password reset"), form=form)


class _AdminLook(ContextMixin):
    """The admin's context (site header, user links) for Django's own auth views."""

    request: HttpRequest  # set by View.setup() on the view this is mixed into

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**admin.site.each_context(self.request), **super().get_context_data(**kwargs)}


class PasswordResetConfirmView(_AdminLook, auth_views.PasswordResetConfirmView):
    """Django's view (the token moves from the URL into the session; the project's password
    validators), for staff only and behind the login lockout: a locked address is refused before
    the link is checked, and an invalid or forged link counts as a failed login."""

    success_url = reverse_lazy("accounts:password-reset-complete")
    form_class = AuditedSetPasswordForm

    def get_form_kwargs(self) -> dict[str, Any]:
        # The link proved the person is the account's holder: the change is theirs.
        ip = client_ip(self.request)
        if self.user is None:  # an invalid link: the form is shown disabled and never saves
            actor = Actor.customer(via=Via.RESET_LINK, ip=ip)
        else:
            actor = Actor.user(self.user, ip=ip, via=Via.RESET_LINK)
        return {**super().get_form_kwargs(), "actor": actor}

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        username = getattr(self.get_user(kwargs.get("uidb64", "")), "email", "")
        refusal = step_locked_refusal(
            request, username=username, step=STEP_PASSWORD_RESET, attempt=False
        )
        if refusal is not None:
            return refusal
        response = super().dispatch(request, *args, **kwargs)
        # A valid link answers with a redirect to the form (token moved into the session).
        if not self.validlink and response.status_code != 302:
            step_failed(request, username=username, step=STEP_PASSWORD_RESET)
        return response

    def get_user(self, uidb64: str) -> Any:
        user = super().get_user(uidb64)
        return user if user is not None and user.is_active and user.is_staff else None


class PasswordResetDoneView(_AdminLook, auth_views.PasswordResetDoneView):
    pass


class PasswordResetCompleteView(_AdminLook, auth_views.PasswordResetCompleteView):
    pass
