"""The ``OAUTH2_PROVIDER`` setting Jeto's OpenID Provider needs, in one call from a host's settings module.

    from jeto_identity.provider.settings import oauth2_provider_settings

    OAUTH2_PROVIDER = oauth2_provider_settings(issuer="https://id.example.com", key_dir=BASE_DIR / "oidc-keys")

Free of Django settings access (it runs while settings load). The dict names Jeto's server and validator, the
OIDC scopes and the host's API scopes, PKCE S256 only, the RFC 9700 switches, token lifetimes and the application
connections' client-secret scheme; any DOT setting can be overridden by keyword (``ACCESS_TOKEN_EXPIRE_SECONDS=600``).
A missing signing key is left empty on purpose: ``manage.py check`` then reports ``jeto_identity.E301``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from jeto_identity.provider.keys import SigningKeyError, SigningKeys, check_rsa_private_key, load_signing_keys

SERVER_CLASS = "jeto_identity.provider.server.JetoServer"
VALIDATOR_CLASS = "jeto_identity.provider.validators.JetoOAuth2Validator"

# The scopes a relying party may ask for (shown on the consent page).
OIDC_SCOPES: dict[str, str] = {
    "openid": "Sign you in with your account",
    "profile": "Your name",
    "email": "Your email address",
    "organizations": "Your organisations and your role in each",
}


def _keys(signing_key: str, previous_signing_keys: Sequence[str], key_dir: Any, generate_key: bool) -> SigningKeys:
    try:
        if signing_key:
            keys = SigningKeys(current=signing_key, previous=list(previous_signing_keys), source="settings")
            for pem in [keys.current, *keys.previous]:
                check_rsa_private_key(pem)
            return keys
        return load_signing_keys(key_dir=os.fspath(key_dir) if key_dir else "", generate=generate_key)
    except SigningKeyError as exc:
        raise ImproperlyConfigured(f"OIDC signing key: {exc}") from None


def oauth2_provider_settings(
    *,
    issuer: str = "",
    signing_key: str = "",
    previous_signing_keys: Sequence[str] = (),
    key_dir: str | os.PathLike[str] = "",
    generate_key: bool = False,
    api_scopes: Mapping[str, str] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """django-oauth-toolkit's settings for Jeto.

    ``issuer``: ``JETO_IDENTITY["ISSUER"]`` (empty: each request's own root URL). The signing key is
    ``signing_key`` (PEM, with ``previous_signing_keys`` still published), else ``current.pem`` in ``key_dir``
    (``manage.py oidckeys rotate --dir`` creates and rotates it; ``generate_key=True`` creates it on first use,
    for development). ``api_scopes``: ``JETO_IDENTITY["API_SCOPES"]``, the scopes your API grants applications.
    """
    keys = _keys(signing_key, previous_signing_keys, key_dir, generate_key)
    scopes = {**OIDC_SCOPES, **dict(api_scopes or {})}
    provider: dict[str, Any] = {
        "OIDC_ENABLED": True,
        "OIDC_ISS_ENDPOINT": (issuer or "").rstrip("/"),
        "OIDC_RSA_PRIVATE_KEY": keys.current,
        "OIDC_RSA_PRIVATE_KEYS_INACTIVE": keys.previous,
        "OIDC_SERVER_CLASS": SERVER_CLASS,
        "OAUTH2_VALIDATOR_CLASS": VALIDATOR_CLASS,
        "ACCESS_TOKEN_GENERATOR": "jeto_identity.provider.tokens.generate_token",  # 256 bits from one 32-byte read
        # What the provider offers, stated once: DOT enforces PKCE_REQUIRED and the COMPLIANT_BCP_RFC9700_* gates
        # below (no plain PKCE, implicit or password grant); Jeto's server dispatches only these response and grant
        # types, and discovery publishes them (jeto_identity.provider.server).
        "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
        "OAUTH2_GRANT_TYPES_SUPPORTED": ["authorization_code", "refresh_token", "client_credentials"],
        "OIDC_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": ["client_secret_basic", "client_secret_post", "none"],
        "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
        "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
        "OIDC_RP_INITIATED_LOGOUT_STRICT_REDIRECT_URIS": True,
        "OIDC_RP_INITIATED_LOGOUT_ACCEPT_EXPIRED_TOKENS": True,
        "SCOPES": scopes,
        "DEFAULT_SCOPES": ["openid"],
        "PKCE_REQUIRED": True,
        "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
        "ACCESS_TOKEN_EXPIRE_SECONDS": 15 * 60,
        "ID_TOKEN_EXPIRE_SECONDS": 15 * 60,
        "REFRESH_TOKEN_EXPIRE_SECONDS": 14 * 24 * 60 * 60,
        "ROTATE_REFRESH_TOKEN": True,
        "REFRESH_TOKEN_REUSE_PROTECTION": True,
        "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
        "ALLOWED_REDIRECT_URI_SCHEMES": ["https", "http"],
        "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
        "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
        "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
        "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
        "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
        "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
        "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
        "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
        "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
        # Application connections: generated secrets carry >= 256 bits and are stored as a keyed hash
        # (jeto_identity.core.hashers.ClientSecretHasher, which PASSWORD_HASHERS must list last).
        "CLIENT_SECRET_GENERATOR_CLASS": "jeto_identity.connections.services.ClientSecretGenerator",
        "CLIENT_SECRET_HASHER": "jeto_client_hmac_sha256",
    }
    provider.update(overrides)
    if provider["AUTHORIZATION_CODE_EXPIRE_SECONDS"] > 600:
        raise ImproperlyConfigured("AUTHORIZATION_CODE_EXPIRE_SECONDS must be at most 600 (RFC 6749 4.1.2).")
    return provider
