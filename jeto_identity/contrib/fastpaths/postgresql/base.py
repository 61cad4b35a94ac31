"""Django's PostgreSQL backend whose connection pool does not check a connection given back healthy moments ago.

``ENGINE = "jeto_identity.contrib.fastpaths.postgresql"`` with ``OPTIONS["pool"]`` and ``CONN_HEALTH_CHECKS``:
Django gives the pool ``ConnectionPool.check_connection``, one round trip each time a request borrows a
connection. This backend gives it ``pool.FreshConnections.check`` instead and notes each connection it returns
without a database error having occurred on it (a connection that had one makes the pool check every connection
again), so a connection back in the pool for less
than ``DATABASES[alias]["JETO_POOL_CHECK_IDLE_SECONDS"]`` (default 0.5 s) is lent without the round trip. Django
passes the pool its own ``check`` whatever ``OPTIONS["pool"]`` says, so the swap is made on the pool Django built.

Leans on psycopg_pool's private ``ConnectionPool._check`` and Django's ``_close`` and ``errors_occurred``
(``tests/identity/test_dbpool.py``).
"""

from __future__ import annotations

import threading
from typing import Any

from django.db.backends.postgresql import base
from psycopg_pool import ConnectionPool

from jeto_identity.contrib.fastpaths.postgresql.pool import FreshConnections

DEFAULT_IDLE_SECONDS = 0.5
_FRESH: dict[str, FreshConnections] = {}
_lock = threading.Lock()


class DatabaseWrapper(base.DatabaseWrapper):
    def _fresh(self) -> FreshConnections:
        fresh = _FRESH.get(self.alias)
        if fresh is None:
            with _lock:
                seconds = float(self.settings_dict.get("JETO_POOL_CHECK_IDLE_SECONDS", DEFAULT_IDLE_SECONDS))
                fresh = _FRESH.setdefault(self.alias, FreshConnections(seconds))
        return fresh

    @property
    def pool(self) -> Any:
        pool = super().pool
        if pool is not None and pool._check is ConnectionPool.check_connection:
            pool._check = self._fresh().check
        return pool

    def _close(self) -> Any:
        if self.connection is not None and self.pool is not None:
            if self.errors_occurred:
                self._fresh().forget_all()
            else:
                self._fresh().note_returned(self.connection)
        return super()._close()
