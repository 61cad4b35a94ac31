"""Bearer-token checks for the Jeto API: DOT's access tokens, looked up by checksum, briefly cached.

Each web process keeps a small in-memory map from token checksum to what the API needs (the organisation's row,
scopes, expiry) for at most ``API_BEARER_CACHE_SECONDS`` (a portal setting, default 1 s). That is the stated bound:
a token revoked, or whose client is disabled or deleted, is refused by every process within that time, and at once
by the process that handled the revocation; a change to the organisation's own fields shows within the same time.
The database stays the source of truth; the cache only saves repeated identical reads, so N stateless nodes behave
as one.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models.signals import post_delete
from oauth2_provider.models import get_access_token_model

from jeto_identity.models import OAuthClient

MAX_ENTRIES = 20_000
_ORGANIZATION_FIELDS = ("slug", "name", "mfa_required", "sso_enforced", "created_at")


@dataclass(frozen=True, slots=True)
class OrganizationSnapshot:
    """The organisation's row as read with the token (``GET /api/v1/organization`` answers from it)."""

    id: int
    slug: str
    name: str
    mfa_required: bool
    sso_enforced: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What a valid application-connection token grants. Never holds the token itself."""

    token_pk: int
    client_pk: int
    client_id: str
    organization_id: int
    scopes: frozenset[str]
    expires_at: float  # epoch seconds
    organization: OrganizationSnapshot

    def allows(self, scope: str | None) -> bool:
        return scope is None or scope in self.scopes


class _LocalCache:
    def __init__(self) -> None:
        self._data: dict[str, tuple[float, TokenInfo | None]] = {}
        self._lock = threading.Lock()

    def get(self, key: str, ttl: float) -> tuple[bool, TokenInfo | None]:
        hit = self._data.get(key)
        if hit is not None and time.monotonic() - hit[0] < ttl:
            return True, hit[1]
        return False, None

    def put(self, key: str, value: TokenInfo | None) -> None:
        with self._lock:
            if len(self._data) >= MAX_ENTRIES:
                self._data.clear()
            self._data[key] = (time.monotonic(), value)

    def discard(self, key: str) -> None:
        self._data.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


_cache = _LocalCache()


def checksum(token: str) -> str:
    """DOT's token_checksum: SHA-256 of the token (tokens are stored hashed, RFC 9700)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _load(token_checksum: str) -> TokenInfo | None:
    row = (
        get_access_token_model()
        .objects.filter(
            token_checksum=token_checksum,
            application__enabled=True,
            application__organization__isnull=False,
            application__authorization_grant_type=OAuthClient.GRANT_CLIENT_CREDENTIALS,
        )
        .values_list(
            "pk",
            "application_id",
            "application__client_id",
            "application__organization_id",
            "scope",
            "application__allowed_scopes",
            "expires",
            *(f"application__organization__{name}" for name in _ORGANIZATION_FIELDS),
        )
        .first()
    )
    if row is None:
        return None
    pk, client_pk, client_id, org_id, scope, allowed, expires, *org = row
    # A token keeps only the scopes its client still holds: narrowing a client's scopes takes effect at once.
    scopes = frozenset(scope.split()) & frozenset(allowed.split())
    organization = OrganizationSnapshot(org_id, *org)
    return TokenInfo(pk, client_pk, client_id, org_id, scopes, expires.timestamp(), organization)


def authenticate(token: str) -> TokenInfo | None:
    """The grant behind a bearer token, or None when it is unknown, expired, revoked or its client disabled."""
    key = checksum(token)
    ttl = min(float(getattr(settings, "API_BEARER_CACHE_SECONDS", 1.0)), 5.0)
    found, info = _cache.get(key, ttl) if ttl > 0 else (False, None)
    if not found:
        info = _load(key)
        if ttl > 0:
            _cache.put(key, info)
    if info is None or info.expires_at <= time.time():
        return None
    return info


def forget(token_checksum: str) -> None:
    _cache.discard(token_checksum)


def clear_cache() -> None:
    _cache.clear()


def _on_token_deleted(sender, instance, **kwargs) -> None:
    forget(instance.token_checksum)


def connect_signals() -> None:
    """A deleted token (revoked, its client disabled or deleted) leaves this process's cache at once."""
    post_delete.connect(_on_token_deleted, sender=get_access_token_model(), dispatch_uid="jeto_bearer_forget")
