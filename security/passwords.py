"""Password validators Django does not ship (C12)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import ngettext


class MaximumLengthValidator:
    """Refuses absurdly long passwords. Long passphrases are welcome (the limit is far above 64);
    the bound only caps how much hashing work a single request can demand."""

    def __init__(self, max_length: int = 1024) -> None:
        if max_length < 64:
            raise ValueError("Passphrases of at least 64 characters must be allowed (C12).")
        self.max_length = max_length

    def validate(self, password: str, user: Any = None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                ngettext(
                    "This password is too long. It must contain at most %(max_length)d character.",
                    "This password is too long. It must contain at most %(max_length)d characters.",
                    self.max_length,
                ),
                code="password_too_long",
                params={"max_length": self.max_length},
            )

    def get_help_text(self) -> str:
        return f"Your password can be a long passphrase, up to {self.max_length} characters."
