"""A connection-pool health check that skips connections returned healthy moments ago.

Django gives psycopg_pool ``ConnectionPool.check_connection`` when ``CONN_HEALTH_CHECKS`` is on: one round trip to
the database every time a request borrows a connection, even one that another request gave back a millisecond
ago. ``FreshConnections.check`` sends that round trip only when the connection has been back in the pool longer
than ``recent_seconds`` (HikariCP's "alive bypass window", 0.5 s by default there too); whoever returns a
connection that worked calls ``note_returned`` first, and ``forget_all`` when one failed
(``jeto_identity.contrib.fastpaths.postgresql.base`` does both for Django's connections).

What is given up: when the database restarts within ``recent_seconds`` of connections coming back, the first
request that borrows one of them fails with a 503 (its connection is replaced); that failure makes every other
connection of the pool checked again before it is lent, so the next requests wait for working connections as they
would with Django's check.
"""

from __future__ import annotations

import time
import weakref
from typing import Any

from psycopg_pool import ConnectionPool


class FreshConnections:
    """When each connection last came back healthy, and the pool ``check`` that trusts a recent return."""

    def __init__(self, recent_seconds: float = 0.5) -> None:
        self.recent_seconds = recent_seconds
        self._returned_at: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()

    def note_returned(self, connection: Any) -> None:
        """The connection is going back to the pool and no database error occurred on it."""
        self._returned_at[connection] = time.monotonic()

    def forget_all(self) -> None:
        """A connection failed: check every connection again before lending it (they may have failed too)."""
        self._returned_at.clear()

    def check(self, connection: Any) -> None:
        """psycopg_pool's ``check``: raise when the connection does not work (then the pool replaces it)."""
        returned = self._returned_at.pop(connection, None)
        if returned is None or time.monotonic() - returned > self.recent_seconds:
            ConnectionPool.check_connection(connection)
