"""Django's Redis cache backend, with one redis-py client per connection pool instead of one per call.

``django.core.cache.backends.redis.RedisCacheClient.get_client`` builds a new ``redis.Redis`` object for every
cache operation; its constructor alone costs more CPU than the round trip it makes. A ``redis.Redis`` client is
safe to share between threads (each command takes a connection from the pool), so this keeps one per pool.
Everything else, including the pools, timeouts and serialisation, is Django's.

Leans on ``RedisCacheClient``'s private ``_get_connection_pool_index``, ``_get_connection_pool`` and ``_client``
and on ``RedisCache`` building its client from ``self._class``. Without it, use Django's own
``django.core.cache.backends.redis.RedisCache``. Use it as
``"BACKEND": "jeto_identity.contrib.fastpaths.cache.RedisCache"``.
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}
        self._clients_lock = threading.Lock()

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            with self._clients_lock:
                client = self._clients.get(index)
                if client is None:
                    pool = self._get_connection_pool(write)
                    client = self._clients[index] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server: Any, params: dict) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
