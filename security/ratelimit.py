"""Per-client-IP rate limits (C01), counted in the shared cache (Redis in production), so every
app process sees the same counters.

Fixed windows: the counter key carries the window number, so it expires by itself. A rule is
"N/s", "N/m" or "N/h". On Redis one hit is one round trip: a small script increments the counter
and gives it its expiry when it has none (so no key ever outlives its window, not even one an
increment recreated just after it expired). Other caches (the embedded file cache) count with
add + incr, which sets the expiry when the counter is created. When the cache is down, each scope fails open (availability first: the
public pages) or closed (abuse first), as configured, and the outage is logged.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import NoScriptError

logger = logging.getLogger(__name__)

_RATE = re.compile(r"^(\d+)/([smh])$")
_PERIODS = {"s": 1, "m": 60, "h": 3600}


@dataclass(frozen=True)
class Rate:
    limit: int
    period: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        return _parse_rate(text)


@lru_cache(maxsize=64)  # the configured rates: a handful of strings, parsed on every request
def _parse_rate(text: str) -> Rate:
    match = _RATE.match(text.strip())
    if not match or int(match.group(1)) < 1:
        raise ValueError(f"{text!r} is not a rate like '10/m' (per s, m or h)")
    return Rate(int(match.group(1)), _PERIODS[match.group(2)])


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int  # seconds until the window resets (when refused)
    # The cache value `hit(also_read=...)` asked for, read in the same round trip (None when
    # absent); and whether the cache failed (the decision is then the scope's fail-open/closed).
    also_read: Any = None
    cache_failed: bool = False


# KEYS[1]: the counter; ARGV[1]: its lifetime in seconds. TTL -1 means "exists without expiry".
# KEYS[2], when given: a key read in the same round trip (the intrusion block of the client).
_INCR_WITH_EXPIRY = """
local count = redis.call('INCR', KEYS[1])
if count == 1 or redis.call('TTL', KEYS[1]) == -1 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
end
if KEYS[2] then
  return {count, redis.call('GET', KEYS[2])}
end
return {count}
"""


_INCR_WITH_EXPIRY_SHA = hashlib.sha1(_INCR_WITH_EXPIRY.encode()).hexdigest()  # noqa: S324 (Redis' id)


def _count(cache_key: str, lifetime: int, also_read: str | None) -> tuple[int, Any]:
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        keys = [backend.make_and_validate_key(k) for k in (cache_key, also_read) if k]
        # The backend's own client, pool and serializer (private: the stubs do not declare them).
        redis_cache = backend._cache  # type: ignore[attr-defined]
        client = redis_cache.get_client(keys[0], write=True)
        try:
            reply = client.evalsha(_INCR_WITH_EXPIRY_SHA, len(keys), *keys, lifetime)
        except NoScriptError:  # first use, or Redis restarted and forgot its scripts
            reply = client.eval(_INCR_WITH_EXPIRY, len(keys), *keys, lifetime)
        raw = reply[1] if len(reply) > 1 else None
        return int(reply[0]), None if raw is None else redis_cache._serializer.loads(raw)
    backend.add(cache_key, 0, timeout=lifetime)
    count = backend.incr(cache_key)
    return count, backend.get(also_read) if also_read else None


def hit(
    *,
    scope: str,
    key: str,
    rate: Rate,
    fail_open: bool,
    now: float | None = None,
    also_read: str | None = None,
) -> Decision:
    """Count one request of `key` in `scope`. `also_read`: a cache key whose value comes back in
    Decision.also_read, read in the same round trip (Redis) as the counter."""
    now = time.time() if now is None else now
    window = int(now // rate.period)
    retry_after = max(1, int((window + 1) * rate.period - now))
    cache_key = f"rl:{scope}:{key}:{window}"
    try:
        count, read = _count(cache_key, rate.period + 1, also_read)
    except Exception:
        logger.error(
            "rate limit cache unavailable",
            extra={"scope": scope, "fail_open": fail_open},
            exc_info=True,
        )
        return Decision(allowed=fail_open, retry_after=rate.period, cache_failed=True)
    return Decision(allowed=count <= rate.limit, retry_after=retry_after, also_read=read)
