"""Ed25519 signatures over backup manifests. No Django.

age encryption hides a backup but does not say who made it: anyone holding the public key (it is
in every manifest) can encrypt a dump of their own. So the app servers that write backups hold a
separate signing key and sign each manifest, and whoever verifies or restores holds only the
public keys it trusts. A destination that can be written to cannot make a backup we accept.

Key texts:
- signing key: PEM PKCS#8, what ``openssl genpkey -algorithm ed25519`` writes (or
  ``manage.py backup_signing_key --generate FILE``);
- public key: ``ed25519:`` and the base64 of its 32 raw bytes, one line, so a list of them fits in
  one environment variable. It is also the key's id in the manifests.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PUBLIC_PREFIX = "ed25519:"


class SigningKeyError(ValueError):
    """A signing or public key that cannot be read."""


class SignatureError(ValueError):
    """A signature that does not check out: wrong, or by a key we do not trust."""


def public_text(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return PUBLIC_PREFIX + base64.b64encode(raw).decode()


def parse_public(text: str) -> Ed25519PublicKey:
    text = text.strip()
    if not text.startswith(PUBLIC_PREFIX):
        raise SigningKeyError(f"not an {PUBLIC_PREFIX}... public key: {text[:20]!r}")
    try:
        raw = base64.b64decode(text[len(PUBLIC_PREFIX) :], validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError) as exc:
        raise SigningKeyError(f"malformed public key {text[:20]!r}...: {exc}") from exc


@dataclass(frozen=True)
class Signer:
    """The private half, on the app servers that write backups."""

    key: Ed25519PrivateKey

    @classmethod
    def from_pem(cls, text: str) -> Signer:
        try:
            key = serialization.load_pem_private_key(text.strip().encode(), password=None)
        except (ValueError, TypeError) as exc:
            raise SigningKeyError(f"not a PEM private key: {exc}") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise SigningKeyError(f"the signing key is {type(key).__name__}, not Ed25519")
        return cls(key)

    @property
    def key_id(self) -> str:
        return public_text(self.key.public_key())

    def sign(self, data: bytes) -> str:
        return base64.b64encode(self.key.sign(data)).decode()


class TrustedKeys:
    """The public keys whose signatures we accept (more than one while a key is being rotated:
    backups signed with the old key stay valid until they are purged)."""

    def __init__(self, texts: list[str]) -> None:
        self.keys = {public_text(parse_public(text)): parse_public(text) for text in texts}

    def __bool__(self) -> bool:
        return bool(self.keys)

    def verify(self, key_id: str, data: bytes, signature: str) -> None:
        key = self.keys.get(key_id)
        if key is None:
            raise SignatureError(f"signed by {key_id[:24]}..., a key that is not trusted here")
        try:
            key.verify(base64.b64decode(signature, validate=True), data)
        except (binascii.Error, ValueError, InvalidSignature):
            raise SignatureError(
                f"the signature does not match the manifest (key {key_id[:24]}...)"
            ) from None


def generate_pem() -> tuple[str, str]:
    """A new signing key: (PEM text, public key text)."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return pem, public_text(key.public_key())


def write_new_key_file(path: str | Path) -> str:
    """Writes a new signing key (mode 0600, never over an existing file); returns its public
    key text."""
    pem, public = generate_pem()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(pem)
    return public
