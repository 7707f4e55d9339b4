"""Private manage links, derived and never stored.

A link's token is `<booking id>.<MAC>`, the MAC an HMAC-SHA256 under MANAGE_LINK_KEY (a server
secret that is not in the database) over the booking id and the booking's link version (random,
stored). So:
- the same booking and version always give the same link: every email can carry it, and nothing
  usable is stored (a database dump or a backup holds ids and versions, but no key);
- a new version (after the customer moves the booking, or on request) revokes every older link;
- a link stops working 30 days after the appointment (checked by the selector, not the token).

Links sent before derived links existed hold 256 random bits whose SHA-256 is stored on the
booking (`manage_token_hash`); those keep working until they expire too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings

# A link works until this long after the appointment's end (then only the business can help).
MANAGE_LINK_LIFETIME_AFTER_END = timedelta(days=30)

# Decimal id, a dot (never in a legacy token, which is URL-safe base64), 43 base64url characters.
_DERIVED = re.compile(r"([1-9][0-9]{0,18})\.([A-Za-z0-9_-]{43})")
_LEGACY = re.compile(r"[A-Za-z0-9_-]{43}")


def new_link_version() -> str:
    """A fresh per-booking link version (random, so a version says nothing about how often a
    booking's links were rotated)."""
    return secrets.token_hex(16)


def _mac(booking_id: int, version: str) -> str:
    key = settings.MANAGE_LINK_KEY.encode("utf-8")
    message = f"booking-manage-link|{booking_id}|{version}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def manage_token(*, booking_id: int, version: str) -> str:
    return f"{booking_id}.{_mac(booking_id, version)}"


@dataclass(frozen=True)
class DerivedToken:
    booking_id: int
    mac: str

    def matches(self, version: str) -> bool:
        return hmac.compare_digest(self.mac, _mac(self.booking_id, version))


def parse_derived(token: str) -> DerivedToken | None:
    match = _DERIVED.fullmatch(token)
    if match is None:
        return None
    return DerivedToken(booking_id=int(match.group(1)), mac=match.group(2))


def is_legacy(token: str) -> bool:
    return _LEGACY.fullmatch(token) is not None


def new_manage_token() -> tuple[str, str]:
    """A random token and its hash: the links made before derived links existed. Only tests
    (and the migration's history) make them now."""
    token = secrets.token_urlsafe(32)
    return token, hash_manage_token(token)


def hash_manage_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
