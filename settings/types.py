"""Shapes of structured settings, so the type checker knows what the apps read from them."""

from __future__ import annotations

from typing import TypedDict


class RateLimit(TypedDict):
    """One scope of RATE_LIMITS: the rate ("N/s", "N/m", "N/h") and whether requests are served
    when the cache that counts them is down."""

    rate: str
    fail_open: bool
