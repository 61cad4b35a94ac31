"""One-time use of assertion IDs and of our request IDs, in Django's cache (Redis: shared by every node).

``cache.add`` is atomic: of two nodes receiving the same response at once, exactly one wins. An assertion ID is
kept until the assertion's ``NotOnOrAfter`` (plus the clock skew) has passed, after which the response is refused
as expired anyway.
"""

from __future__ import annotations

import hashlib

from django.core.cache import cache

MIN_SECONDS = 60


def _key(kind: str, connection_id: int, value: str) -> str:
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
    return f"jeto:saml:{kind}:{connection_id}:{digest}"


def first_use(kind: str, connection_id: int, value: str, seconds: float) -> bool:
    """True the first time ``value`` is seen for this connection within ``seconds``; False on a replay."""
    return bool(cache.add(_key(kind, connection_id, value), 1, max(int(seconds) + 1, MIN_SECONDS)))
