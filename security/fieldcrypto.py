"""Field-level encryption of customer data at rest (C26) and its keys.

Values are sealed with Fernet (AES-128-CBC + HMAC-SHA256, authenticated: a changed or foreign
ciphertext is refused, never decrypted to garbage) under `FIELD_ENCRYPTION_KEYS`, newest first.
MultiFernet encrypts under the newest key and decrypts under any listed one, which is what a
rotation needs: add a new key in front, run `manage.py encryption_rotate`, then drop the old one.

Lookups by email cannot compare ciphertexts (every encryption of one value differs), so the
email is also stored as a keyed blind index: HMAC-SHA256 under `FIELD_BLIND_INDEX_KEY` of the
normalised (case-folded, trimmed) address. Without that key an index reveals nothing and cannot
be recomputed from a guessed address; it is a separate key so that rotating the encryption keys
leaves every index valid.

Keys live outside the database (environment or `*_FILE`); production refuses to start without
them (settings/prod.py) and `check --deploy` names malformed ones (security.E010).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# Every stored value starts with this, so a row written before encryption (or by hand) is told
# apart from a ciphertext with a clear message instead of an opaque token error.
PREFIX = "enc1:"


class FieldDecryptionError(Exception):
    """A stored value cannot be decrypted with the configured keys (wrong or missing key, or the
    value was changed). Raised instead of returning anything that might look like data."""


def _fernet_key(raw: str, position: int) -> Fernet:
    try:
        return Fernet(raw.encode("ascii"))
    except (ValueError, binascii.Error, UnicodeEncodeError):
        raise ImproperlyConfigured(
            f"FIELD_ENCRYPTION_KEYS item {position + 1} is not a Fernet key (32 bytes, url-safe "
            "base64: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')."
        ) from None


def key_problems() -> list[str]:
    """What is wrong with the configured keys, in words (empty: usable). Shared by the system
    check and the code that uses the keys, so both say the same thing."""
    problems = []
    keys = list(getattr(settings, "FIELD_ENCRYPTION_KEYS", []) or [])
    if not keys:
        problems.append("FIELD_ENCRYPTION_KEYS is not set: customer data cannot be encrypted.")
    for position, raw in enumerate(keys):
        try:
            _fernet_key(raw, position)
        except ImproperlyConfigured as exc:
            problems.append(str(exc))
    if len(set(keys)) != len(keys):
        problems.append("FIELD_ENCRYPTION_KEYS lists one key twice.")
    index_key = getattr(settings, "FIELD_BLIND_INDEX_KEY", "") or ""
    if len(index_key) < 32:
        problems.append(
            "FIELD_BLIND_INDEX_KEY must be a secret of at least 32 characters "
            "(python -c 'import secrets; print(secrets.token_urlsafe(48))')."
        )
    elif index_key in keys:
        problems.append("FIELD_BLIND_INDEX_KEY must differ from every FIELD_ENCRYPTION_KEYS key.")
    return problems


@lru_cache(maxsize=8)
def _cipher(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([_fernet_key(raw, position) for position, raw in enumerate(keys)])


def _configured_cipher() -> MultiFernet:
    keys = tuple(getattr(settings, "FIELD_ENCRYPTION_KEYS", []) or [])
    if not keys:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS is not set: customer data can be neither written nor read."
        )
    return _cipher(keys)


def encrypt(value: str) -> str:
    return PREFIX + _configured_cipher().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(stored: str) -> str:
    if not stored.startswith(PREFIX):
        raise FieldDecryptionError(
            "A customer data column holds a value that was not encrypted by this application "
            "(no enc1: prefix); it was written around the application."
        )
    try:
        plain = _configured_cipher().decrypt(stored[len(PREFIX) :].encode("ascii"))
    except (InvalidToken, UnicodeEncodeError):
        raise FieldDecryptionError(
            "Customer data cannot be decrypted with the configured FIELD_ENCRYPTION_KEYS: the key "
            "it was written with is not listed (restored with the wrong keys?) or the value "
            "was altered."
        ) from None
    return plain.decode("utf-8")


def is_under_newest_key(stored: str) -> bool:
    """Whether a stored value is already sealed with the newest key (rotation skips it)."""
    if not stored.startswith(PREFIX):
        return False
    keys = tuple(getattr(settings, "FIELD_ENCRYPTION_KEYS", []) or [])
    try:
        _fernet_key(keys[0], 0).decrypt(stored[len(PREFIX) :].encode("ascii"))
    except (InvalidToken, IndexError):
        return False
    return True


def rotate(stored: str) -> str:
    """The same plaintext sealed under the newest key (raises FieldDecryptionError when no
    listed key opens it)."""
    return encrypt(decrypt(stored))


def normalise_email(email: str) -> str:
    return email.strip().casefold()


def blind_index(email: str) -> str:
    """Keyed HMAC of a normalised email: equal for "Ann@X.org" and "ann@x.org", useless to
    anyone without FIELD_BLIND_INDEX_KEY."""
    key = getattr(settings, "FIELD_BLIND_INDEX_KEY", "") or ""
    if not key:
        raise ImproperlyConfigured("FIELD_BLIND_INDEX_KEY is not set: emails cannot be looked up.")
    return hmac.new(
        key.encode("utf-8"), normalise_email(email).encode("utf-8"), hashlib.sha256
    ).hexdigest()


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


def development_key(label: str) -> str:
    """A fixed, public key for DEBUG and tests only (settings.prod refuses to start with one)."""
    return base64.urlsafe_b64encode(hashlib.sha256(label.encode()).digest()).decode("ascii")
