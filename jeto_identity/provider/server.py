"""The oauthlib server behind django-oauth-toolkit, dispatching only what both Jeto and the host offer.

What Jeto supports is fixed here: the authorization-code flow (response type ``code``, PKCE with ``S256``
required), refresh tokens and client credentials. A host's ``OAUTH2_PROVIDER`` may narrow that
(``OIDC_RESPONSE_TYPES_SUPPORTED``, ``OAUTH2_GRANT_TYPES_SUPPORTED``, DOT's ``COMPLIANT_BCP_RFC9700_*`` gates), never
widen it: a hand-written dict that lists implicit, hybrid, password or device-code flows, or turns PKCE off, still
gets only the intersection, which is also what discovery publishes. System check ``jeto_identity.E309`` reports
such a dict, since it does not say what the server does.

What DOT cannot do is done here too: ID tokens are never accepted as bearer tokens, and a pre-authorization check
bounds parameter sizes, requires a PKCE challenge and refuses any method but ``S256`` before the user signs in (DOT
refuses ``plain`` only when it issues the code) and checks the S256 challenge format.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from oauth2_provider.models import AbstractGrant
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.views.metadata import bcp_filter_code_challenge_methods, bcp_filter_response_types
from oauthlib.oauth2.rfc6749 import errors
from oauthlib.oauth2.rfc6749.endpoints import AuthorizationEndpoint, ResourceEndpoint, TokenEndpoint
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

# What Jeto supports at most; the host's settings choose within these, in this order.
SUPPORTED_RESPONSE_TYPES = ("code",)
SUPPORTED_GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
SUPPORTED_CODE_CHALLENGE_METHODS = ("S256",)


def offered_response_types() -> list[str]:
    """``OIDC_RESPONSE_TYPES_SUPPORTED`` less what DOT's RFC 9700 gates refuse, within what Jeto supports."""
    offered = bcp_filter_response_types(oauth2_settings.OIDC_RESPONSE_TYPES_SUPPORTED)
    return [name for name in offered if name in SUPPORTED_RESPONSE_TYPES]


def offered_grant_types() -> list[str]:
    """``OAUTH2_GRANT_TYPES_SUPPORTED`` less what DOT's RFC 9700 gates refuse, within what Jeto supports."""
    refused = set()
    if oauth2_settings.COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT:
        refused.add("implicit")
    if oauth2_settings.COMPLIANT_BCP_RFC9700_PASSWORD_GRANT:
        refused.add("password")
    offered = oauth2_settings.OAUTH2_GRANT_TYPES_SUPPORTED
    return [grant for grant in offered if grant not in refused and grant in SUPPORTED_GRANT_TYPES]


def offered_code_challenge_methods() -> list[str]:
    """The PKCE methods accepted: ``S256`` alone, whatever DOT's ``COMPLIANT_BCP_RFC9700_PKCE_METHOD`` says."""
    methods = bcp_filter_code_challenge_methods([method for method, _label in AbstractGrant.CODE_CHALLENGE_METHODS])
    return [method for method in methods if method in SUPPORTED_CODE_CHALLENGE_METHODS]


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
    if request.code_challenge is None:
        # DOT requires PKCE only while PKCE_REQUIRED says so; Jeto always does.
        raise errors.MissingCodeChallengeError(request=request)
    if request.code_challenge is not None:
        methods = offered_code_challenge_methods()
        if request.code_challenge_method not in methods:
            raise errors.InvalidRequestError(
                description=f"code_challenge_method must be one of: {', '.join(methods)}.", request=request
            )
        if request.code_challenge_method == "S256" and not S256_CHALLENGE.match(request.code_challenge):
            raise errors.InvalidRequestError(
                description="code_challenge must be a 43-character base64url SHA-256 value.", request=request
            )
    max_age = request.max_age
    if max_age is not None and (not str(max_age).isdigit()):
        raise errors.InvalidRequestError(description="max_age must be a non-negative integer.", request=request)
    return {}


class JetoServer(Server):
    """oauthlib's OpenID Connect server dispatching only the offered response and grant types (see above)."""

    def __init__(self, request_validator: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(request_validator, *args, **kwargs)
        self.auth_grant.custom_validators.pre_auth.append(check_authorization_parameters)
        self.openid_connect_auth.proxy_target.custom_validators.pre_auth.append(check_authorization_parameters)
        response_types = offered_response_types()
        grant_types = offered_grant_types()
        # The bearer token type built with DOT's token generators (``self.bearer`` is replaced by the userinfo
        # endpoint's own, which has none).
        bearer = self.default_token_type
        AuthorizationEndpoint.__init__(
            self,
            default_response_type="code",
            default_token_type=bearer,
            response_types={name: h for name, h in self.response_types.items() if name in response_types},
        )
        TokenEndpoint.__init__(
            self,
            default_grant_type="authorization_code",
            default_token_type=bearer,
            grant_types={name: h for name, h in self.grant_types.items() if name in grant_types},
        )
        ResourceEndpoint.__init__(self, default_token="Bearer", token_types={"Bearer": bearer})
