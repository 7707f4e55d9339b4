"""Forms of the MFA pages (C13). They only parse what was typed; the services check the codes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts import backup_codes
from accounts.services import BACKUP_CODE, TOTP

TOTP_DIGITS = 6


def _digits(text: str) -> str:
    return "".join(text.split())


def _is_totp(code: str) -> bool:
    # ASCII digits only: str.isdigit() also accepts other scripts' digits.
    return code.isascii() and code.isdigit() and len(code) == TOTP_DIGITS


class MfaCodeForm(forms.Form):
    """The MFA step: a code from the authenticator app, or a backup code."""

    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        ),
        help_text=_(
            "The 6-digit code your authenticator app shows now, or one of your backup codes."
        ),
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        typed = data.get("code", "")
        if _is_totp(_digits(typed)):
            data["method"], data["code"] = TOTP, _digits(typed)
        elif typed and backup_codes.looks_like_code(typed):
            data["method"], data["code"] = BACKUP_CODE, backup_codes.normalise(typed)
        elif typed:
            self.add_error(
                "code",
                _(
                    "Enter the 6 digits from your authenticator app, or a backup code "
                    "(xxxx-xxxx-xxxx)."
                ),
            )
        return data


class MfaEnrolForm(forms.Form):
    """Enrolment: the first code of the new authenticator proves it is set up."""

    code = forms.CharField(
        label=_("Code from the app"),
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )

    def clean_code(self) -> str:
        code = _digits(self.cleaned_data["code"])
        if not _is_totp(code):
            raise forms.ValidationError(_("Enter the 6 digits your authenticator app shows."))
        return code


class PasswordResetRequestForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
