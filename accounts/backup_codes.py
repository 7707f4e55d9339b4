"""One-time MFA backup codes (C13): made, normalised and hashed here, with no Django imports.

A code is 12 characters from a 31-character alphabet without look-alikes (no 0/o, 1/l/i), shown
as three groups of four: about 59 bits of randomness. Only a random salt and the SHA-256 of salt
and code are stored. For random secrets of that size a fast hash is enough (no one can try 2^59
guesses per stolen row, and the salt stops one guess from testing every row at once), and it
keeps checking a user's ten codes cheap. The codes themselves are shown once and never stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
LENGTH = 12
GROUP = 4
COUNT = 10


def generate(count: int = COUNT) -> list[str]:
    """`count` new codes, formatted for display (xxxx-xxxx-xxxx)."""
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        codes.append("-".join(raw[i : i + GROUP] for i in range(0, LENGTH, GROUP)))
    return codes


def normalise(text: str) -> str:
    """What the user typed, as stored: case, spaces and hyphens do not matter."""
    return "".join(text.split()).replace("-", "").lower()


def looks_like_code(text: str) -> bool:
    code = normalise(text)
    return len(code) == LENGTH and all(c in ALPHABET for c in code)


def new_salt() -> str:
    return secrets.token_hex(16)


def digest(code: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}:{normalise(code)}".encode()).hexdigest()


def matches(code: str, *, salt: str, code_hash: str) -> bool:
    return hmac.compare_digest(digest(code, salt), code_hash)
