"""Per-client-IP rate limits (C01), counted in the shared cache (Redis in production), so every
app process sees the same counters.

Fixed windows: the counter key carries the window number, so it expires by itself. A rule is
"N/s", "N/m" or "N/h". When the cache is down, each scope fails open (availability first: the
public pages) or closed (abuse first), as configured, and the outage is logged.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass

from django.core.cache import cache

logger = logging.getLogger(__name__)

_RATE = re.compile(r"^(\d+)/([smh])$")
_PERIODS = {"s": 1, "m": 60, "h": 3600}


@dataclass(frozen=True)
class Rate:
    limit: int
    period: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        match = _RATE.match(text.strip())
        if not match or int(match.group(1)) < 1:
            raise ValueError(f"{text!r} is not a rate like '10/m' (per s, m or h)")
        return cls(int(match.group(1)), _PERIODS[match.group(2)])


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int  # seconds until the window resets (when refused)


def hit(*, scope: str, key: str, rate: Rate, fail_open: bool, now: float | None = None) -> Decision:
    now = time.time() if now is None else now
    window = int(now // rate.period)
    retry_after = max(1, int((window + 1) * rate.period - now))
    cache_key = f"rl:{scope}:{key}:{window}"
    try:
        cache.add(cache_key, 0, timeout=rate.period + 1)
        count = cache.incr(cache_key)
    except Exception:
        logger.error(
            "rate limit cache unavailable",
            extra={"scope": scope, "fail_open": fail_open},
            exc_info=True,
        )
        return Decision(allowed=fail_open, retry_after=rate.period)
    return Decision(allowed=count <= rate.limit, retry_after=retry_after)
