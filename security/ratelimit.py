"""Per-client-IP rate limits (C01), counted in the shared cache (Redis in production), so every
app process sees the same counters.

Fixed windows: the counter key carries the window number, so it expires by itself. A rule is
"N/s", "N/m" or "N/h". On Redis one hit is one round trip: a small script increments the counter
and gives it its expiry when it has none (so no key ever outlives its window, not even one an
increment recreated just after it expired). Other caches (the embedded file cache) count with
add + incr, which sets the expiry when the counter is created. When the cache is down, each scope fails open (availability first: the
public pages) or closed (abuse first), as configured, and the outage is logged.

Leases (the middleware's scopes, `hit(lease=True)`): a round trip to the shared cache costs a
request more than everything else the security middleware does, so an app process may claim
several hits of a client's window at once and serve the next requests of that client from its
claim without asking again. A claim takes at most 1/LEASE_SHARE of what the window has left
(and at most RATE_LIMIT_LEASE_MAX), so near the limit claims shrink to one hit and counting is
exact again; limits under 2 x LEASE_SHARE are always counted hit by hit. What holds:
- never more than the limit across all processes: every served request was counted in the
  shared counter before it was served (claims are counted when claimed);
- in one process, exactly the limit: the process uses its own claim before asking again;
- a client whose requests go to several processes may be refused a little early, by at most
  the unused claims the other processes still hold for it (claims made when the window still had
  plenty left; a claim never exceeds 1/LEASE_SHARE of what was left).
Claims live in the process's memory for their window only and are dropped with it.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
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


# KEYS[1]: the counter; ARGV[1]: its lifetime in seconds; ARGV[2]: the hits counted (1, or a
# lease's claim). TTL -1 means "exists without expiry".
# KEYS[2], when given: a key read in the same round trip (the intrusion block of the client).
_INCR_WITH_EXPIRY = """
local count = redis.call('INCRBY', KEYS[1], ARGV[2])
if count == 1 or redis.call('TTL', KEYS[1]) == -1 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
end
if KEYS[2] then
  return {count, redis.call('GET', KEYS[2])}
end
return {count}
"""


# SHA-1 because that is how Redis names a loaded script (EVALSHA), not for security.
_INCR_WITH_EXPIRY_SHA = hashlib.sha1(_INCR_WITH_EXPIRY.encode(), usedforsecurity=False).hexdigest()


def _count(cache_key: str, lifetime: int, also_read: str | None, hits: int = 1) -> tuple[int, Any]:
    """Add `hits` to the counter; its new value, and the value of `also_read` (one round trip on
    Redis)."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        keys = [backend.make_and_validate_key(k) for k in (cache_key, also_read) if k]
        # The backend's own client, pool and serializer (private: the stubs do not declare them).
        redis_cache = backend._cache  # type: ignore[attr-defined]
        client = redis_cache.get_client(keys[0], write=True)
        try:
            reply = client.evalsha(_INCR_WITH_EXPIRY_SHA, len(keys), *keys, lifetime, hits)
        except NoScriptError:  # first use, or Redis restarted and forgot its scripts
            reply = client.eval(_INCR_WITH_EXPIRY, len(keys), *keys, lifetime, hits)
        raw = reply[1] if len(reply) > 1 else None
        return int(reply[0]), None if raw is None else redis_cache._serializer.loads(raw)
    backend.add(cache_key, 0, timeout=lifetime)
    count = backend.incr(cache_key, hits)
    return count, backend.get(also_read) if also_read else None


# --- leases: hits a process claimed and has not served yet ----------------------------------------
LEASE_SHARE = 16
_LEASES_KEPT = 10_000  # clients with a claim per process; beyond that, old windows are dropped


@dataclass
class _Lease:
    left: int  # claimed hits not served yet
    count: int  # the shared counter's value at the last claim


class _Leases:
    """This process's claims: (counter key, limit) -> _Lease. A claim is only ever given up (never
    handed back), so dropping one is safe: its client may be refused a little early, never let
    through uncounted."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_key: dict[tuple[str, int], _Lease] = {}

    def take(self, key: tuple[str, int]) -> bool:
        """Serve one hit from the claim, if it has one left."""
        with self.lock:
            lease = self.by_key.get(key)
            if lease is None or lease.left < 1:
                return False
            lease.left -= 1
            return True

    def claim_size(self, key: tuple[str, int], limit: int, most: int) -> int:
        with self.lock:
            lease = self.by_key.get(key)
        counted = lease.count if lease is not None else 0
        return max(1, min(most, (limit - counted) // LEASE_SHARE))

    def keep(self, key: tuple[str, int], left: int, count: int, window: int) -> None:
        with self.lock:
            if key not in self.by_key and len(self.by_key) >= _LEASES_KEPT:
                self._drop_before(window)
            lease = self.by_key.setdefault(key, _Lease(0, 0))
            lease.left += left
            lease.count = max(lease.count, count)

    def _drop_before(self, window: int) -> None:
        suffix = f":{window}"
        self.by_key = {k: v for k, v in self.by_key.items() if k[0].endswith(suffix)}
        if len(self.by_key) >= _LEASES_KEPT:
            self.by_key.clear()

    def clear(self) -> None:
        with self.lock:
            self.by_key.clear()


_leases = _Leases()


def forget_leases() -> None:
    """Drop this process's claims (as a restart does); for when the shared counters were wiped."""
    _leases.clear()


def hit(
    *,
    scope: str,
    key: str,
    rate: Rate,
    fail_open: bool,
    now: float | None = None,
    also_read: str | None = None,
    lease: bool = False,
) -> Decision:
    """Count one request of `key` in `scope`. `also_read`: a cache key whose value comes back in
    Decision.also_read, read in the same round trip (Redis) as the counter (it always asks the
    cache). `lease`: the request may be served from, or claim, a lease (the module's docstring)."""
    now = time.time() if now is None else now
    window = int(now // rate.period)
    retry_after = max(1, int((window + 1) * rate.period - now))
    cache_key = f"rl:{scope}:{key}:{window}"
    lease_key = (cache_key, rate.limit)
    if lease and also_read is None and _leases.take(lease_key):
        return Decision(allowed=True, retry_after=retry_after)
    claim = _leases.claim_size(lease_key, rate.limit, settings.RATE_LIMIT_LEASE_MAX) if lease else 1
    try:
        count, read = _count(cache_key, rate.period + 1, also_read, claim)
    except Exception:
        logger.error(
            "rate limit cache unavailable",
            extra={"scope": scope, "fail_open": fail_open},
            exc_info=True,
        )
        return Decision(allowed=fail_open, retry_after=rate.period, cache_failed=True)
    # The hits of this claim that fit under the limit; the first serves this request.
    granted = max(0, min(claim, rate.limit - (count - claim)))
    if lease:
        _leases.keep(lease_key, max(0, granted - 1), count, window)
    return Decision(allowed=granted > 0, retry_after=retry_after, also_read=read)
