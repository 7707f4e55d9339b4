"""Private manage tokens: 256 random bits in the customer's link, only a SHA-256 in the database
(a leaked database gives no control over bookings; a hash suffices because the token is random)."""

from __future__ import annotations

import hashlib
import secrets


def new_manage_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, hash_manage_token(token)


def hash_manage_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
