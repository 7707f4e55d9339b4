"""The Redis cache backend (settings.base with REDIS_URL): every request reads and writes the
cache several times (intrusion blocks, rate limits, /healthz), so one client per connection pool
serves them all instead of a new client object per operation; values, expiry and counters behave
as Django's backend."""

from __future__ import annotations

import pytest
from django.core.cache import cache

pytestmark = pytest.mark.redis


def test_operations_share_one_client_per_connection_pool() -> None:
    backend = cache._cache
    assert backend.get_client("a") is backend.get_client("b", write=True)


def test_values_counters_and_expiry_behave_as_before() -> None:
    cache.set("k", {"when": 1.5}, timeout=30)
    assert cache.get("k") == {"when": 1.5}
    assert cache.add("n", 0, timeout=30)
    assert not cache.add("n", 5, timeout=30)
    assert cache.incr("n", 3) == 3
    assert cache.get_many(["k", "n", "missing"]) == {"k": {"when": 1.5}, "n": 3}
    client = cache._cache.get_client("n")
    assert 0 < client.ttl(cache.make_and_validate_key("n")) <= 30
    cache.delete("k")
    assert cache.get("k") is None
