"""An IdP's discovery document and JWKS, fetched with timeouts and cached in Django's cache (shared by all nodes).

The JWKS is refetched when an ID token names a key we don't know (the IdP rotated), at most once per
``JWKS_REFRESH_INTERVAL`` seconds per connection, so forged tokens with random ``kid`` values can't make us hammer
the IdP.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import jwt
from django.core.cache import cache

from jeto_identity.conf import jeto_settings
from jeto_identity.models import SSOConnection
from jeto_identity.sso import http
from jeto_identity.sso.http import IdPError

JWKS_REFRESH_INTERVAL = 30
_KTY_FOR_ALG_PREFIX = {"RS": "RSA", "PS": "RSA", "ES": "EC"}


class UnknownSigningKey(IdPError):
    """No key in the IdP's JWKS matches the token's ``kid`` and algorithm, even after a refresh."""


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str = ""
    signing_algorithms: tuple[str, ...] = ()
    pkce_methods: tuple[str, ...] = ()
    iss_parameter_supported: bool = False
    token_auth_methods: tuple[str, ...] = ("client_secret_basic",)
    warnings: tuple[str, ...] = field(default=())


def _key(connection: SSOConnection, what: str) -> str:
    digest = hashlib.sha256(connection.issuer.encode()).hexdigest()[:16]
    return f"jeto:sso:{connection.pk}:{digest}:{what}"


def parse_discovery(connection: SSOConnection, doc: dict[str, Any]) -> ProviderMetadata:
    """Validate a discovery document against the connection (OIDC Discovery 1.0 §4.3) and our policy."""
    issuer = doc.get("issuer")
    if not isinstance(issuer, str) or issuer.rstrip("/") != connection.issuer.rstrip("/"):
        raise IdPError(
            f"The discovery document names issuer {issuer!r}, not {connection.issuer!r}. "
            "Enter exactly the issuer your IdP shows (copy it from its discovery document)."
        )
    missing = [k for k in ("authorization_endpoint", "token_endpoint", "jwks_uri") if not doc.get(k)]
    if missing:
        raise IdPError(f"The discovery document has no {', '.join(missing)}.")
    allowed = list(jeto_settings.SSO_ID_TOKEN_ALGORITHMS)
    offered = doc.get("id_token_signing_alg_values_supported") or []
    usable = tuple(a for a in offered if a in allowed)
    if offered and not usable:
        raise IdPError(
            f"The IdP signs ID tokens with {', '.join(map(str, offered))}; we accept only {', '.join(allowed)}."
        )
    if "code" not in (doc.get("response_types_supported") or ["code"]):
        raise IdPError("The IdP doesn't support the authorization code flow (response_type=code).")
    warnings: list[str] = []
    pkce = tuple(doc.get("code_challenge_methods_supported") or ())
    if pkce and "S256" not in pkce:
        warnings.append("The IdP doesn't list PKCE with S256; we send it anyway.")
    elif not pkce:
        warnings.append("The IdP's discovery document doesn't mention PKCE; we send it anyway.")
    return ProviderMetadata(
        issuer=issuer,
        authorization_endpoint=doc["authorization_endpoint"],
        token_endpoint=doc["token_endpoint"],
        jwks_uri=doc["jwks_uri"],
        userinfo_endpoint=doc.get("userinfo_endpoint") or "",
        signing_algorithms=usable or tuple(allowed),
        pkce_methods=pkce,
        iss_parameter_supported=bool(doc.get("authorization_response_iss_parameter_supported")),
        # OIDC Discovery: when absent, client_secret_basic is the default.
        token_auth_methods=tuple(doc.get("token_endpoint_auth_methods_supported") or ("client_secret_basic",)),
        warnings=tuple(warnings),
    )


def discovery(connection: SSOConnection, *, refresh: bool = False) -> ProviderMetadata:
    """The connection's validated metadata (cached). Raises ``IdPError``/``IdPUnreachable``."""
    key = _key(connection, "discovery")
    doc = None if refresh else cache.get(key)
    if doc is None:
        doc = http.get_json(connection.discovery_url, "discovery document")
        metadata = parse_discovery(connection, doc)  # validate before caching
        cache.set(key, doc, jeto_settings.SSO_METADATA_CACHE_SECONDS)
        return metadata
    return parse_discovery(connection, doc)


def _fetch_jwks(connection: SSOConnection, metadata: ProviderMetadata) -> dict[str, Any]:
    jwks = http.get_json(metadata.jwks_uri, "JWKS (signing keys)")
    if not isinstance(jwks.get("keys"), list):
        raise IdPError("The JWKS has no list of keys.")
    cache.set(_key(connection, "jwks"), jwks, jeto_settings.SSO_METADATA_CACHE_SECONDS)
    return jwks


def jwks(connection: SSOConnection, *, refresh: bool = False) -> dict[str, Any]:
    cached = None if refresh else cache.get(_key(connection, "jwks"))
    return cached if cached is not None else _fetch_jwks(connection, discovery(connection))


def usable_keys(jwks_doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Signature keys we could verify with: RSA or EC, not marked for encryption, parseable."""
    keys = []
    for jwk in jwks_doc.get("keys", []):
        if not isinstance(jwk, dict) or jwk.get("kty") not in ("RSA", "EC") or jwk.get("use", "sig") != "sig":
            continue
        try:
            jwt.PyJWK(jwk)
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, KeyError):
            continue
        keys.append(jwk)
    return keys


def _match(jwks_doc: dict[str, Any], kid: str | None, alg: str) -> jwt.PyJWK | None:
    kty = _KTY_FOR_ALG_PREFIX.get(alg[:2])
    candidates = [k for k in usable_keys(jwks_doc) if k.get("kty") == kty and k.get("alg", alg) == alg]
    if kid is not None:
        candidates = [k for k in candidates if k.get("kid") == kid]
    elif len(candidates) != 1:
        return None  # no kid: only unambiguous when the IdP publishes a single key of that type
    return jwt.PyJWK(candidates[0], algorithm=alg) if candidates else None


def signing_key(connection: SSOConnection, kid: str | None, alg: str) -> jwt.PyJWK:
    """The IdP's public key for ``kid``/``alg``; refetches the JWKS once (rate-limited) if it isn't known."""
    key = _match(jwks(connection), kid, alg)
    if key is None and cache.add(_key(connection, "jwks-refreshed"), 1, JWKS_REFRESH_INTERVAL):
        key = _match(_fetch_jwks(connection, discovery(connection)), kid, alg)
    if key is None:
        raise UnknownSigningKey("The ID token is signed with a key the IdP does not publish.")
    return key


def forget(connection: SSOConnection) -> None:
    cache.delete_many([_key(connection, w) for w in ("discovery", "jwks", "jwks-refreshed")])


@dataclass
class TestReport:
    ok: bool
    lines: list[str]


def test_connection(connection: SSOConnection) -> TestReport:
    """Fetch discovery and JWKS afresh and describe, in plain words, what works and what doesn't."""
    lines: list[str] = []
    try:
        metadata = discovery(connection, refresh=True)
        lines.append(f"Discovery document OK (issuer {metadata.issuer}).")
        lines.extend(metadata.warnings)
        for what, url in (
            ("authorization endpoint", metadata.authorization_endpoint),
            ("token endpoint", metadata.token_endpoint),
        ):
            http.check_url(url, what)
        keys = usable_keys(_fetch_jwks(connection, metadata))
        if not keys:
            raise IdPError("The JWKS contains no RSA or EC signing key we can use.")
        lines.append(f"JWKS OK ({len(keys)} signing key{'s' if len(keys) != 1 else ''}).")
        if not connection.client_id:
            raise IdPError("No client ID is set.")
        if not connection.has_client_secret:
            raise IdPError("No client secret is set.")
        connection.get_client_secret()
        if "openid" not in connection.scope_list or "email" not in connection.scope_list:
            raise IdPError("Scopes must include openid and email.")
    except IdPError as exc:
        lines.append(str(exc))
        return TestReport(ok=False, lines=lines)
    except Exception as exc:  # crypto.DecryptionError and anything unexpected: reported, never a 500
        lines.append(f"{exc.__class__.__name__}: {exc}")
        return TestReport(ok=False, lines=lines)
    return TestReport(ok=True, lines=lines)
