"""Registering relying parties (OIDC clients using the authorization code flow)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction
from oauth2_provider.generators import generate_client_secret

from jeto_identity.models import OAuthClient, RelyingParty, User

CONFIDENTIAL = OAuthClient.CLIENT_CONFIDENTIAL
PUBLIC = OAuthClient.CLIENT_PUBLIC


@dataclass
class Registration:
    client: RelyingParty
    client_secret: str  # plaintext, shown once; empty for public clients


LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}


def check_redirect_uri(uri: str) -> None:
    """An absolute https URI (http only on loopback, for development), no fragment, userinfo or wildcard."""
    parts = urlsplit(uri)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValidationError(f"{uri!r}: must be an absolute https:// URI.")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise ValidationError(f"{uri!r}: http:// is only allowed for localhost/127.0.0.1; use https://.")
    if "#" in uri or "@" in parts.netloc or "*" in uri:
        raise ValidationError(f"{uri!r}: no fragment, user info or wildcard allowed.")
    if len(uri) > 512:
        raise ValidationError(f"{uri!r}: longer than 512 characters.")


def check_redirect_uris(value: str, field: str) -> None:
    errors = []
    for uri in value.split():
        try:
            check_redirect_uri(uri)
        except ValidationError as exc:
            errors.extend(exc.messages)
    if errors:
        raise ValidationError({field: errors})


def normalise_uris(value: str | list[str]) -> str:
    """Space-separated, de-duplicated, in the order given."""
    items = value.split() if isinstance(value, str) else [u for v in value for u in v.split()]
    return " ".join(dict.fromkeys(items))


def prepare(client: OAuthClient) -> str:
    """Fix the fields every relying party shares and return the plaintext secret to show once ('' if public).

    The secret is generated here and hashed by django-oauth-toolkit when the row is saved.
    """
    client.authorization_grant_type = OAuthClient.GRANT_AUTHORIZATION_CODE
    client.algorithm = OAuthClient.RS256_ALGORITHM
    # Public clients have no secret; an empty value must stay empty rather than become a hash of "".
    client.hash_client_secret = client.client_type == CONFIDENTIAL
    client.organization = None
    client.redirect_uris = normalise_uris(client.redirect_uris or "")
    client.post_logout_redirect_uris = normalise_uris(client.post_logout_redirect_uris or "")
    secret = generate_client_secret() if client.client_type == CONFIDENTIAL else ""
    client.client_secret = secret
    return secret


def register(
    *,
    name: str,
    redirect_uris: str | list[str],
    client_type: str = CONFIDENTIAL,
    post_logout_redirect_uris: str | list[str] = "",
    trusted: bool = False,
    created_by: User | None = None,
    client_id: str | None = None,
) -> Registration:
    """Create a relying party; validation errors raise ValidationError and write nothing."""
    if client_type not in (CONFIDENTIAL, PUBLIC):
        raise ValidationError({"client_type": "Must be confidential or public."})
    client = RelyingParty(
        name=name,
        client_type=client_type,
        redirect_uris=normalise_uris(redirect_uris),
        post_logout_redirect_uris=normalise_uris(post_logout_redirect_uris),
        skip_authorization=trusted,
        created_by=created_by,
    )
    if client_id:
        client.client_id = client_id
    secret = prepare(client)
    if not client.redirect_uris:
        raise ValidationError({"redirect_uris": "At least one redirect URI is required."})
    check_redirect_uris(client.redirect_uris, "redirect_uris")
    check_redirect_uris(client.post_logout_redirect_uris, "post_logout_redirect_uris")
    client.full_clean(exclude=["client_secret"])
    with transaction.atomic():
        client.save()
    return Registration(client=client, client_secret=secret)


def rotate_secret(client: OAuthClient) -> str:
    """A new secret for a confidential client (the old one stops working at once); returns it in clear."""
    if client.client_type != CONFIDENTIAL:
        raise ValidationError("Public clients have no secret.")
    secret = generate_client_secret()
    client.client_secret = secret
    client.save(update_fields=["client_secret", "updated"])
    return secret
