"""Validators of what people type, on the model fields, so that `full_clean()` protects every way
in (booking pages, widget API, the admin, services called from code) with one rule.

Single-line fields (names, emails, phones) end up in email headers, calendar files (.ics) and CSV
exports: no control characters, no Unicode line or paragraph separators (U+2028/U+2029, which
some readers treat as line breaks: a header or .ics property injection), and no bidirectional
embedding, override or isolate controls (U+202A-U+202E, U+2066-U+2069), which make text display
in another order than it is stored ("Trojan Source" spoofing of names in a partner's calendar).
Free text (notes) may span lines, but the other rules hold.
"""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

LINE_SEPARATORS = frozenset("\u2028\u2029")
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
TEXT_WHITESPACE = frozenset("\n\r\t")


def _has_control(value: str, allowed: frozenset[str] = frozenset()) -> bool:
    return any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in value)


def _check_bidi(value: str) -> None:
    if any(ch in BIDI_CONTROLS for ch in value):
        raise ValidationError(
            _("Remove the invisible text-direction characters from this field."), code="bidi"
        )


def validate_single_line(value: str) -> None:
    """One line of text: no control characters, line separators or bidi controls."""
    if _has_control(value) or any(ch in LINE_SEPARATORS for ch in value):
        raise ValidationError(
            _("Remove the control characters (line breaks, tabs) from this field."), code="control"
        )
    _check_bidi(value)


def validate_text(value: str) -> None:
    """Free text: line breaks and tabs allowed; other control characters and bidi controls not."""
    if _has_control(value, TEXT_WHITESPACE):
        raise ValidationError(_("Remove the control characters from this field."), code="control")
    _check_bidi(value)


def validate_plain_email(value: str) -> None:
    """An address mail can be sent to the usual way: no quoted local part (`"x y"@example.com`)
    or escapes. RFC 5321 allows them, but the messages and calendar entries built for the
    customer cannot carry them reliably, so they are refused where they are typed, not found
    out when the confirmation fails to build."""
    if '"' in value or "\\" in value:
        raise ValidationError(
            _(
                "Please enter an email address without quotation marks or backslashes, "
                "like name@example.com."
            ),
            code="quoted",
        )
