"""The password hasher (C10): bcrypt over SHA-256 of the password, at a configurable cost.

Django's BCryptSHA256PasswordHasher has a fixed cost (12). This one reads PASSWORD_BCRYPT_ROUNDS
(at least 12, settings), so raising the cost is a configuration change, and `must_update` then
re-hashes each password at its owner's next login. SHA-256 first means passphrases longer than
bcrypt's 72-byte input limit are hashed in full.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.hashers import BCryptSHA256PasswordHasher


class BCryptSHA256Hasher(BCryptSHA256PasswordHasher):
    # Same algorithm name: hashes stay readable by Django's own hasher and vice versa.
    algorithm = "bcrypt_sha256"

    # A property, so the cost follows the setting at each use (Django's is a class attribute,
    # which mypy will not let a read-only property replace).
    @property
    def rounds(self) -> int:  # type: ignore[override]
        return int(getattr(settings, "PASSWORD_BCRYPT_ROUNDS", 12))
