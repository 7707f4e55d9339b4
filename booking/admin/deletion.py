"""The owner's "delete this account" page (C25): what will go is shown first; the owner
re-enters the password and a current MFA code and types the business's name, then
booking.deletion.partner_delete runs (the same service as `manage.py partner_delete`)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth import logout
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.services import TOTP, CodeRefused, mfa_check_code
from booking.admin.scoping import request_scope
from booking.deletion import (
    PartnerNameMismatch,
    backups_hold_until,
    check_partner_name,
    partner_delete,
    partner_deletion_preview_for,
)
from booking.models import Partner
from security.actors import Actor, Via
from security.client_ip import client_ip
from security.lockout import STEP_MFA, step_failed, step_locked_refusal

STEP_PARTNER_DELETE = "partner_delete"


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"), strip=False, widget=forms.PasswordInput(render_value=False)
    )
    code = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    name = forms.CharField(label=_("The business's name"), max_length=120)
    reason = forms.CharField(
        label=_("Why are you leaving? (optional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _owned_partner(request: HttpRequest, object_id: str) -> Partner:
    """The partner of the owner asking; anyone else, and any other partner, is a 404."""
    scope = request_scope(request)
    if not scope.is_owner or scope.partner is None or str(scope.partner.pk) != str(object_id):
        raise Http404
    return scope.partner


def delete_account_view(
    model_admin: admin.ModelAdmin[Any], request: HttpRequest, object_id: str
) -> HttpResponse:
    partner = _owned_partner(request, object_id)
    zone = partner.zone
    preview_until = backups_hold_until(timezone.now())
    user: Any = request.user
    username = user.get_username()
    submitted = request.method == "POST"
    locked = step_locked_refusal(request, username=username, step=STEP_MFA, attempt=submitted)
    if locked is not None:
        return locked
    form = DeleteAccountForm(request.POST if submitted else None)
    if submitted and form.is_valid():
        data = form.cleaned_data
        try:
            if not user.check_password(data["password"]):
                step_failed(request, username=username, step=STEP_PARTNER_DELETE)
                raise ValidationError({"password": _("This password is not right.")})
            try:
                mfa_check_code(user=user, method=TOTP, code=data["code"], ip=client_ip(request))
            except CodeRefused:
                step_failed(request, username=username, step=STEP_MFA)
                raise ValidationError(
                    {"code": _("This code is not right, or was used already.")}
                ) from None
            check_partner_name(partner=partner, typed=data["name"])
            summary = partner_delete(
                partner=partner,
                actor=Actor.from_request(request, via=Via.ADMIN),
                reason=data["reason"] or "Deleted by its owner in the admin.",
            )
        except (ValidationError, PartnerNameMismatch) as exc:
            for field, messages in exc.message_dict.items():
                for message in messages:
                    form.add_error(field if field in form.fields else None, message)
        else:
            logout(request)  # the account is gone; so is this session
            return TemplateResponse(
                request,
                "admin/booking/partner/account_deleted.html",
                {
                    "title": _("Account deleted"),
                    "partner_name": summary.partner_name,
                    "summary": summary,
                    "until": preview_until.astimezone(zone),
                    "zone_name": zone.key,
                },
            )
    preview = partner_deletion_preview_for(partner=partner)
    return TemplateResponse(
        request,
        "admin/booking/partner/delete_account.html",
        {
            **model_admin.admin_site.each_context(request),
            "title": _("Delete this account"),
            "opts": model_admin.model._meta,
            "partner": partner,
            "preview": preview,
            "form": form,
            "until": preview.backups_hold_until.astimezone(zone),
            "zone_name": zone.key,
        },
    )
