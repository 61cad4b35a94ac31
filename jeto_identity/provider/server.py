"""The oauthlib server behind django-oauth-toolkit, narrowed to what Jeto supports.

oauthlib's pre-configured OpenID ``Server`` wires every grant it knows. We keep the authorization code flow
(OIDC and plain OAuth 2.0), refresh tokens and client credentials (application connections), and remove the
implicit, hybrid, password and device grants, ``response_type=none``, the ``plain`` PKCE method and ID tokens
used as bearer tokens. A pre-authorization check bounds parameter sizes and the PKCE challenge format.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from oauthlib.oauth2.rfc6749 import errors
from oauthlib.oauth2.rfc6749.grant_types.authorization_code import code_challenge_method_s256
from oauthlib.openid import Server

# RFC 7636 section 4.2: BASE64URL(SHA256(verifier)) is exactly 43 characters.
S256_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")

# Longest accepted value per authorization parameter (DB columns, the login page's `next` and sanity).
PARAMETER_LIMITS = {
    "client_id": 255,
    "redirect_uri": 512,
    "scope": 256,
    "state": 512,
    "nonce": 255,
    "code_challenge_method": 8,
    "prompt": 64,
    "max_age": 10,
    "login_hint": 254,
    "ui_locales": 64,
    "display": 16,
    "claims": 1024,
    "id_token_hint": 4096,
    "acr_values": 128,
}
# The whole authorization query; the login page accepts `next` URLs up to 2000 characters.
MAX_AUTHORIZATION_QUERY = 1900
SUPPORTED_RESPONSE_MODES = {"query"}
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
# oauthlib raises ValueError (a 500) on a '%' that doesn't start a two-digit hex escape.
BAD_PERCENT_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def malformed_query(query_string: str) -> bool:
    """True when oauthlib could not parse this query string."""
    return bool(BAD_PERCENT_ESCAPE.search(query_string))


def check_authorization_parameters(request: Any) -> dict[str, Any]:
    """oauthlib pre-auth validator: runs after client and redirect URI were verified, so errors redirect."""
    query = request.uri.partition("?")[2]
    if len(query) > MAX_AUTHORIZATION_QUERY:
        raise errors.InvalidRequestError(description="The authorization request is too long.", request=request)
    for name, limit in PARAMETER_LIMITS.items():
        value = getattr(request, name, None)
        if isinstance(value, str) and len(value) > limit:
            raise errors.InvalidRequestError(description=f"The {name} parameter is too long.", request=request)
    for name in ("nonce", "code_challenge", "code_challenge_method", "prompt", "max_age", "response_mode"):
        if name in request.duplicate_params:
            raise errors.InvalidRequestError(description=f"Duplicate {name} parameter.", request=request)
    if request.response_mode and request.response_mode not in SUPPORTED_RESPONSE_MODES:
        raise errors.InvalidRequestError(description="Only response_mode=query is supported.", request=request)
    raw = parse_qsl(query, keep_blank_values=True)
    if any(CONTROL_CHARS.search(name) or CONTROL_CHARS.search(value) for name, value in raw):
        raise errors.InvalidRequestError(description="Parameters must not contain control characters.", request=request)
    raw_names = {name for name, _value in raw}
    if raw_names & {"request", "request_uri"}:
        raise errors.CustomOAuth2Error(
            error="request_not_supported", description="Request objects are not supported.", request=request
        )
    if request.code_challenge is not None:
        if request.code_challenge_method != "S256":
            raise errors.InvalidRequestError(
                description="code_challenge_method must be S256 (plain is not accepted).", request=request
            )
        if not S256_CHALLENGE.match(request.code_challenge):
            raise errors.InvalidRequestError(
                description="code_challenge must be a 43-character base64url SHA-256 value.", request=request
            )
    max_age = request.max_age
    if max_age is not None and (not str(max_age).isdigit()):
        raise errors.InvalidRequestError(description="max_age must be a non-negative integer.", request=request)
    return {}


class JetoServer(Server):
    """oauthlib's OpenID Connect server with only the flows Jeto supports."""

    def __init__(self, request_validator: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(request_validator, *args, **kwargs)
        s256_only = {"S256": code_challenge_method_s256}
        self.auth_grant._code_challenge_methods = s256_only
        self.openid_connect_auth.proxy_target._code_challenge_methods = s256_only
        self.auth_grant.custom_validators.pre_auth.append(check_authorization_parameters)
        self.openid_connect_auth.proxy_target.custom_validators.pre_auth.append(check_authorization_parameters)
        self._response_types = {"code": self.auth_grant_choice}
        self._grant_types = {
            "authorization_code": self.token_grant_choice,
            "refresh_token": self.refresh_grant,
            "client_credentials": self.credentials_grant,
        }
        self._tokens = {"Bearer": self.bearer}
