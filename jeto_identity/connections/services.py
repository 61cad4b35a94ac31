"""Application connections: issue, rotate, revoke and check the secrets of client-credentials clients.

A secret exists in clear only inside the :class:`IssuedSecret` these functions return; the database keeps its
hash (``ClientSecretHasher`` through DOT's ``CLIENT_SECRET_HASHER``). Nothing here logs a secret.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from jeto_identity.audit import services as audit
from jeto_identity.conf import jeto_settings
from jeto_identity.connections import signals
from jeto_identity.models import OAuthClient, Organization, User
from jeto_identity.orgadmin import plans

MIN_SECRET_BYTES = 32  # 256 bits


def generate_secret() -> str:
    """A URL-safe secret with ``CLIENT_SECRET_BYTES`` (never fewer than 32) random bytes."""
    return secrets.token_urlsafe(max(MIN_SECRET_BYTES, int(jeto_settings.CLIENT_SECRET_BYTES)))


class ClientSecretGenerator:
    """DOT's ``CLIENT_SECRET_GENERATOR_CLASS``: every client DOT creates gets a >= 256-bit secret."""

    def hash(self) -> str:
        return generate_secret()


@dataclass(frozen=True)
class IssuedSecret:
    """The one moment a secret exists in clear. ``repr`` and ``str`` never show it."""

    client: OAuthClient
    client_secret: str = field(repr=False)

    @property
    def client_id(self) -> str:
        return self.client.client_id

    def __str__(self) -> str:
        return f"secret for {self.client.client_id}"


def api_scopes() -> dict[str, str]:
    return dict(jeto_settings.API_SCOPES)


def clean_scopes(scopes: str | list[str] | tuple[str, ...]) -> str:
    """Normalise a scope list to the stored form; unknown scopes are a ValidationError."""
    names = scopes.split() if isinstance(scopes, str) else [s for s in scopes if s]
    unknown = sorted(set(names) - set(api_scopes()))
    if unknown:
        raise ValidationError(f"Unknown scope(s): {', '.join(unknown)}. Known: {', '.join(sorted(api_scopes()))}.")
    if not names:
        raise ValidationError("Choose at least one scope.")
    return " ".join(sorted(set(names)))


def prepare_connection(client: OAuthClient, *, created_by: User | None = None) -> str:
    """Make an unsaved ``client`` an application connection with a fresh secret; returns the secret in clear.

    The caller saves the client (DOT's ClientSecretField hashes the secret on save).
    """
    secret = generate_secret()
    client.client_type = OAuthClient.CLIENT_CONFIDENTIAL
    client.authorization_grant_type = OAuthClient.GRANT_CLIENT_CREDENTIALS
    client.redirect_uris = ""
    client.post_logout_redirect_uris = ""
    client.skip_authorization = False
    client.hash_client_secret = True
    client.client_secret = secret
    client.allowed_scopes = clean_scopes(client.allowed_scopes)
    if created_by is not None and getattr(created_by, "is_authenticated", False):
        client.created_by = created_by
    return secret


def issue_client(
    *,
    organization: Organization,
    name: str,
    scopes: str | list[str],
    description: str = "",
    access_token_lifetime: int | None = None,
    created_by: User | None = None,
) -> IssuedSecret:
    """Create an application connection for ``organization``."""
    if not (name or "").strip():
        raise ValidationError("A name is required.")
    if access_token_lifetime is not None and access_token_lifetime <= 0:
        raise ValidationError("The token lifetime must be a positive number of seconds.")
    try:
        plans.check_api_client_allowed(organization)
    except PermissionDenied as exc:
        raise ValidationError(str(exc)) from exc
    client = OAuthClient(
        organization=organization,
        name=name.strip(),
        description=description,
        allowed_scopes=" ".join(scopes) if isinstance(scopes, list | tuple) else scopes,
        access_token_lifetime=access_token_lifetime,
    )
    secret = prepare_connection(client, created_by=created_by)
    client.save()
    return IssuedSecret(client=client, client_secret=secret)


def rotate_secret(
    client: OAuthClient, *, grace_seconds: int | None = None, now: datetime | None = None
) -> IssuedSecret:
    """Give ``client`` a new secret; the current one keeps working for the grace period (default 24 h)."""
    now = now or timezone.now()
    grace = jeto_settings.CLIENT_SECRET_GRACE_SECONDS if grace_seconds is None else grace_seconds
    secret = generate_secret()
    with transaction.atomic():
        locked = OAuthClient.objects.select_for_update().get(pk=client.pk)
        if grace > 0:
            locked.previous_client_secret = locked.client_secret
            locked.previous_secret_expires_at = now + timedelta(seconds=grace)
        else:
            locked.previous_client_secret = ""
            locked.previous_secret_expires_at = None
        locked.client_secret = secret
        locked.hash_client_secret = True
        locked.secret_rotated_at = now
        locked.save()
    client.refresh_from_db()
    signals.client_secret_rotated.send(
        sender=OAuthClient, client=client, previous_secret_expires_at=client.previous_secret_expires_at
    )
    return IssuedSecret(client=client, client_secret=secret)


def end_grace_period(client: OAuthClient) -> None:
    """Stop accepting the previous secret now (e.g. once every deployment has the new one)."""
    OAuthClient.objects.filter(pk=client.pk).update(previous_client_secret="", previous_secret_expires_at=None)
    client.previous_client_secret, client.previous_secret_expires_at = "", None


def check_client_secret(client: OAuthClient, provided: str, *, now: datetime | None = None) -> bool:
    """Is ``provided`` the client's current secret, or its previous one within the grace period?"""
    if not provided or not client.client_secret:
        return False
    if _matches(provided, client.client_secret):
        return True
    expires = client.previous_secret_expires_at
    if client.previous_client_secret and expires and (now or timezone.now()) < expires:
        return _matches(provided, client.previous_client_secret)
    return False


def _matches(provided: str, stored: str) -> bool:
    try:
        return check_password(provided, stored)
    except ValueError:
        return False


_DUMMY_HASH: str | None = None


def burn_secret_check(provided: str) -> None:
    """Spend the time of one secret check, so an unknown client answers like a wrong secret."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = make_password(generate_secret(), hasher="jeto_client_hmac_sha256")
    _matches(provided or "", _DUMMY_HASH)


def revoke_tokens(client: OAuthClient) -> int:
    """Delete every access and refresh token of ``client`` (``post_delete`` tells any host's token cache)."""
    with transaction.atomic():
        get_refresh_token_model().objects.filter(application=client).delete()
        deleted, _ = get_access_token_model().objects.filter(application=client).delete()
    return deleted


def revoke_client(client: OAuthClient) -> int:
    """Disable ``client`` and invalidate its outstanding tokens at once. Returns how many tokens died."""
    with transaction.atomic():
        OAuthClient.objects.filter(pk=client.pk).update(enabled=False, updated=timezone.now())
        client.enabled = False
        deleted = revoke_tokens(client)
        audit.record(  # .update() sends no signal, so the audit event is written here, in the same transaction
            audit.API_CLIENT_REVOKED,
            organization=client.organization,
            subject=client.client_id,
            client_id=client.client_id,
            client_name=client.name,
            reason="revoked",
            count=deleted,
        )
        return deleted


def touch_last_used(client: OAuthClient, *, now: datetime | None = None) -> None:
    """Record use, at most once per ``CLIENT_LAST_USED_RESOLUTION_SECONDS`` (no write on the hot path)."""
    now = now or timezone.now()
    resolution = timedelta(seconds=jeto_settings.CLIENT_LAST_USED_RESOLUTION_SECONDS)
    if client.last_used_at is None or now - client.last_used_at >= resolution:
        OAuthClient.objects.filter(pk=client.pk).update(last_used_at=now)
        client.last_used_at = now


def grace_seconds() -> int:
    return int(jeto_settings.CLIENT_SECRET_GRACE_SECONDS)
