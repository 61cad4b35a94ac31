"""SCIM bearer tokens: issue, rotate, revoke and authenticate.

A token exists in clear only in the :class:`IssuedToken` ``issue``/``rotate`` return. The database keeps
HMAC-SHA256 of it under the keyring's ``client_secret_pepper`` keys (configuration, not the database), with its own
message prefix so a SCIM token hash never equals a client-secret hash. A token carries 256 random bits, so a fast
keyed hash is as safe as a slow KDF and the lookup is one indexed query: every pepper (newest first) is tried.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from jeto_identity.audit import services as audit
from jeto_identity.core import keys
from jeto_identity.models import Organization, User
from jeto_identity.provisioning.models import ScimToken

TOKEN_PREFIX = "jscim_"
TOKEN_BYTES = 32
LAST_USED_RESOLUTION = timedelta(seconds=60)
_MESSAGE = b"jeto-scim-token\x00"


@dataclass(frozen=True)
class IssuedToken:
    """The one moment a token exists in clear. ``repr`` and ``str`` never show it."""

    token: ScimToken
    secret: str = field(repr=False)

    def __str__(self) -> str:
        return f"SCIM token {self.token.prefix}…"


def _digest(pepper: bytes, secret: str) -> str:
    return hmac.new(pepper, _MESSAGE + secret.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def _digests(secret: str) -> list[str]:
    return [_digest(p, secret) for p in keys.keys(keys.CLIENT_SECRET_PEPPER)]


def _new_secret() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def issue(organization: Organization, name: str, *, created_by: User | None = None) -> IssuedToken:
    """A new token for ``organization``, audited."""
    secret = _new_secret()
    creator = created_by if created_by is not None and getattr(created_by, "is_authenticated", False) else None
    with transaction.atomic():
        token = ScimToken.objects.create(
            organization=organization,
            name=(name or "").strip()[:100] or "SCIM",
            token_hash=_digests(secret)[0],
            prefix=secret[: len(TOKEN_PREFIX) + 4],
            created_by=creator,
        )
        audit.record(
            audit.SCIM_TOKEN_ISSUED,
            actor=creator,
            organization=organization,
            subject=token.prefix,
            client_name=token.name,
            via="SCIM",
        )
    return IssuedToken(token=token, secret=secret)


def revoke(token: ScimToken, *, actor: User | None = None, reason: str = "revoked") -> None:
    """The token stops working at once (its row stays, for last-used and the audit trail)."""
    with transaction.atomic():
        updated = ScimToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        token.refresh_from_db()
        if updated:
            audit.record(
                audit.SCIM_TOKEN_REVOKED,
                actor=actor,
                organization=token.organization,
                subject=token.prefix,
                client_name=token.name,
                reason=reason,
                via="SCIM",
            )


def rotate(token: ScimToken, *, actor: User | None = None) -> IssuedToken:
    """A new token with the same name and organisation; the old one is revoked in the same transaction."""
    with transaction.atomic():
        locked = ScimToken.objects.select_for_update().get(pk=token.pk)
        issued = issue(locked.organization, locked.name, created_by=actor)
        revoke(locked, actor=actor, reason="rotated")
    token.refresh_from_db()
    return issued


def authenticate(presented: str, *, now: datetime | None = None) -> ScimToken | None:
    """The live token matching ``presented`` (its organisation loaded), or None. Records last use (coarsely)."""
    if not presented or not presented.startswith(TOKEN_PREFIX) or len(presented) > 200:
        return None
    digests = _digests(presented)
    token = (
        ScimToken.objects.select_related("organization").filter(token_hash__in=digests, revoked_at__isnull=True).first()
    )
    if token is None or not any(constant_time_compare(token.token_hash, d) for d in digests):
        return None
    now = now or timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ScimToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
