"""The invitation link (booking.invitations): open it, choose a password, then enrol MFA.

`/invitation/<token>/` checks the link, keeps its hash in the session and redirects to
`/invitation/`, so the token stays in one request line only (which the logs redact) and never
reaches a Referer header or the browser's history of pages with content. `/invitation/` shows
the partner and the role and takes the password (the project's password validators); the new
account is then logged in with its password and sent to the MFA enrolment of accounts (MFA is
mandatory before any admin page answers). Refusals are pages with a 4xx status.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.auth import get_user_model, login
from django.contrib.auth.forms import SetPasswordForm
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_safe

from booking import invitations
from booking.invitations import Held, InvitationRefused, Refusal
from booking.views.common import private_page
from security.client_ip import client_ip

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise

SESSION_KEY = "_booking_invitation"

_REFUSALS: dict[Refusal, tuple[int, StrOrPromise]] = {
    Refusal.UNKNOWN: (
        404,
        gettext_lazy(
            "This invitation link is not valid. It may have been replaced by a newer one: use "
            "the link in the latest invitation email."
        ),
    ),
    Refusal.USED: (
        410,
        gettext_lazy(
            "This invitation has been accepted already. Log in with your email address and "
            "password."
        ),
    ),
    Refusal.EXPIRED: (
        410,
        gettext_lazy(
            "This invitation link has expired. Ask the person who invited you to send it again."
        ),
    ),
    Refusal.REVOKED: (
        410,
        gettext_lazy(
            "This invitation was withdrawn. Ask the person who invited you if you think this is "
            "a mistake."
        ),
    ),
    Refusal.SIGNED_IN: (
        403,
        gettext_lazy("You are logged in. Log out first, then open the invitation link again."),
    ),
    Refusal.ACCOUNT_EXISTS: (
        409,
        gettext_lazy(
            "An account with this email address exists already, and an account works for one "
            "business only. Ask the platform's support for help."
        ),
    ),
}


def _page(request: HttpRequest, template: str, status: int = 200, **context: Any) -> HttpResponse:
    # The admin's look, without its menu (the visitor has no admin session yet).
    return render(
        request,
        template,
        {**admin.site.each_context(request), **context},
        status=status,
    )


def _refused(request: HttpRequest, refused: InvitationRefused) -> HttpResponse:
    request.session.pop(SESSION_KEY, None)
    status, message = _REFUSALS[refused.reason]
    return _page(
        request,
        "booking/invitation_refused.html",
        status=status,
        title=_("Invitation"),
        message=message,
        signed_in=refused.reason == Refusal.SIGNED_IN,
    )


@never_cache
@require_safe
@private_page
@sensitive_variables("token")
def invitation_open(request: HttpRequest, token: str) -> HttpResponse:
    try:
        held = invitations.invitation_check(token=token, user=request.user, ip=client_ip(request))
    except InvitationRefused as refused:
        return _refused(request, refused)
    request.session[SESSION_KEY] = held.as_session()
    return HttpResponseRedirect(reverse("booking:invitation-accept"))


class InvitationPasswordForm(SetPasswordForm):
    """Django's set-password form (both fields, the project's validators, checked against the
    email address) for the account about to be created."""


@never_cache
@sensitive_post_parameters("new_password1", "new_password2")
@require_http_methods(["GET", "HEAD", "POST"])
@private_page
def invitation_accept(request: HttpRequest) -> HttpResponse:
    ip = client_ip(request)
    held = Held.from_session(request.session.get(SESSION_KEY))
    try:
        invitation = invitations.invitation_held(held=held, user=request.user, ip=ip)
    except InvitationRefused as refused:
        return _refused(request, refused)
    if held is None:  # invitation_held refused it already; for the type checker
        raise Http404
    future_user = get_user_model()(email=invitation.email)
    form = InvitationPasswordForm(future_user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = invitations.invitation_accept(
                held=held, password=form.cleaned_data["new_password1"], ip=ip
            )
        except InvitationRefused as refused:
            return _refused(request, refused)
        request.session.pop(SESSION_KEY, None)
        # The password step is done; the MFA enrolment comes next, then the workspace.
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        enrol = reverse("accounts:mfa-enrol")
        return HttpResponseRedirect(f"{enrol}?{urlencode({'next': reverse('admin:index')})}")
    return _page(
        request,
        "booking/invitation_accept.html",
        status=400 if request.method == "POST" else 200,
        title=_("Accept the invitation"),
        invitation=invitation,
        role=invitations.role_label(invitation.role),
        form=form,
    )
