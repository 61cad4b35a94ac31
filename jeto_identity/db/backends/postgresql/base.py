"""PostgreSQL with Django's connection health checks, minus the round trip on a connection proven moments ago.

With ``CONN_HEALTH_CHECKS`` Django pings a persistent connection (``SELECT 1``) at the start of every request
that uses it. Under load that doubles the round trips of a one-query request such as a bearer-authenticated
API call. This backend skips the ping when the same connection finished a request without a connection error
less than ``HEALTH_CHECK_BYPASS_SECONDS`` ago (default 1 s), as HikariCP's ``aliveBypassWindowMs`` does. A
connection idle for longer is pinged as before, so one that died while idle (a restarted or failed-over
server) is replaced before the request uses it. A server lost inside the window fails that request's query:
the request answers 503 (``ServiceUnavailableMiddleware``) and Django closes the connection when the request
ends, so the next one reconnects.

Use it as ``"ENGINE": "jeto_identity.db.backends.postgresql"``; ``0`` for the window restores Django's
behaviour exactly.
"""

from __future__ import annotations

import time

from django.db.backends.postgresql import base

DEFAULT_BYPASS_SECONDS = 1.0


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.proven_at = float("-inf")  # monotonic time this connection last finished a request cleanly

    @property
    def health_check_bypass_seconds(self) -> float:
        return float(self.settings_dict.get("HEALTH_CHECK_BYPASS_SECONDS", DEFAULT_BYPASS_SECONDS))

    def connect(self) -> None:
        super().connect()
        self.proven_at = float("-inf")

    def close_if_health_check_failed(self) -> None:
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and time.monotonic() - self.proven_at < self.health_check_bypass_seconds
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def close_if_unusable_or_obsolete(self) -> None:
        # Called when a request starts and when it ends. The connection is proven when it was used since the
        # last call (health_check_done: checked or freshly opened) and no connection-level error occurred.
        used_cleanly = self.connection is not None and self.health_check_done and not self.errors_occurred
        super().close_if_unusable_or_obsolete()
        if used_cleanly and self.connection is not None:
            self.proven_at = time.monotonic()
