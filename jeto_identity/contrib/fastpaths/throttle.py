"""django-axes' cache handler (``AXES_HANDLER``), reading a request's counters in one cache round trip.

axes reads the per-account and the per-address counter with one ``cache.get`` each; this reads them with one
``get_many`` (a single Redis ``MGET``). It also leaves the counts it read on the request, so a success can
skip resetting a counter that was zero (``jeto_identity.throttle.services.succeeded`` reads them when present).

Leans on ``AxesCacheHandler.get_failures`` being the one place axes reads the counters and on
``axes.helpers.get_client_cache_keys``. Without it, use axes' own ``axes.handlers.cache.AxesCacheHandler``.
Use it as ``AXES_HANDLER = "jeto_identity.contrib.fastpaths.throttle.CacheHandler"``.
"""

from __future__ import annotations

from typing import Any

from axes.handlers.cache import AxesCacheHandler
from axes.helpers import get_client_cache_keys

COUNTS_ATTRIBUTE = "jeto_throttle_counts"


class CacheHandler(AxesCacheHandler):
    def get_failures(self, request: Any, credentials: dict | None = None) -> int:
        keys = get_client_cache_keys(request, credentials)
        found = self.cache.get_many(keys)
        counts = {key: int(found.get(key) or 0) for key in keys}
        if request is not None:
            setattr(request, COUNTS_ATTRIBUTE, counts)
        return max(counts.values(), default=0)
