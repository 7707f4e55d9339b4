"""Django's Redis cache backend, with one client object per connection pool.

Django's backend builds a new `redis.Redis` for every operation (cheap connections, but the
client object itself is not: redis-py sets up its command callbacks, retry and encoder each
time). A request reads or writes the cache several times (intrusion blocks, rate limits,
/healthz), so that construction was a visible part of the security middleware's cost. A client is
thread-safe and holds no connection of its own (it takes one from the pool per command), so
sharing it changes nothing else.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class _SharedClientCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}  # id(pool) -> its client (pools live as long)

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # Django's own pool choice and client class (private: the stubs do not declare them).
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _SharedClientCacheClient
