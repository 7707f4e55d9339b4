"""age (X25519) encryption of backups, streaming, through pyrage. No Django.

App servers hold only the recipient (public key, ``age1...``): they can write backups but not
read them. The identity (private key, ``AGE-SECRET-KEY-1...``) lives only on the machines that
verify and restore. The files are standard age files: ``age -d -i identity.txt`` decrypts them.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pyrage
from pyrage import x25519

from backups.format import Readable, Writable


class WrongKeyError(Exception):
    """The identity is not the one the backup was encrypted to."""


class DecryptionError(Exception):
    """The ciphertext failed authentication: damaged or edited."""


def parse_recipient(recipient: str) -> x25519.Recipient:
    try:
        return x25519.Recipient.from_str(recipient.strip())
    except Exception as exc:  # pyrage raises its own RecipientError
        raise ValueError(f"not an age X25519 recipient (age1...): {exc}") from exc


def load_identity(path: str | Path) -> x25519.Identity:
    """Reads an age identity file (the format age-keygen writes: comments and one key line)."""
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("AGE-SECRET-KEY-"):
            return x25519.Identity.from_str(line)
    raise ValueError(f"{path} holds no AGE-SECRET-KEY line")


def public_key_of(identity: x25519.Identity) -> str:
    return str(identity.to_public())


def generate_identity_file(path: str | Path) -> str:
    """Writes a new identity like age-keygen does (mode 0600) and returns its public key."""
    identity = x25519.Identity.generate()
    public = public_key_of(identity)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(f"# created: {datetime.now(tz=UTC).isoformat(timespec='seconds')}\n")
        handle.write(f"# public key: {public}\n{identity}\n")
    return public


# pyrage reads and writes any object with read()/write()/flush(); its stubs name BufferedIOBase,
# which our hashing and compressing streams are not, hence the arg-type ignores below.
def encrypt_stream(source: Readable, target: Writable, recipient: str) -> None:
    pyrage.encrypt_io(source, target, [parse_recipient(recipient)])  # type: ignore[arg-type]


def decrypt_stream(source: Readable, target: Writable, identity: x25519.Identity) -> None:
    try:
        pyrage.decrypt_io(source, target, [identity])  # type: ignore[arg-type]
    except (pyrage.DecryptError, OSError) as exc:
        # pyrage says "No matching keys found" when no stanza opens with this identity; a
        # truncated or edited payload surfaces as a decryption (OS) error.
        if "matching keys" in str(exc).lower():
            raise WrongKeyError(str(exc)) from exc
        raise DecryptionError(str(exc)) from exc
