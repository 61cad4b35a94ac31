"""mozilla-django-oidc's backend, with the IdP loaded from the database and a strict ID-token check.

mozilla reads one IdP from settings in ``__init__`` and each method reads ``self.OIDC_*``; here those attributes
come from the ``SSOConnection`` the callback view resolved (``request.jeto_sso_connection``), and
``get_settings`` answers per connection. Token and userinfo calls stay mozilla's (with our timeout). Verification
is ours on top of PyJWT: algorithm allow-list, JWKS key by ``kid`` (refreshed once on an unknown one), exact
``iss``, ``aud`` (and ``azp``), ``exp``/``iat``, and the nonce compared in constant time.

This backend answers only the SSO callback: ``authenticate`` takes no username or password, so Django skips it
for password sign-ins, and it returns None unless our callback view attached a connection to the request.
The user it returns is not logged in here: the callback view hands it to the login pipeline.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import jwt
import requests
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from requests.auth import HTTPBasicAuth

from jeto_identity.conf import jeto_settings
from jeto_identity.models import SSOConnection
from jeto_identity.sso import http
from jeto_identity.sso import services as sso_service
from jeto_identity.sso.oidc import metadata

logger = logging.getLogger("jeto_identity.sso")

CONNECTION_ATTR = "jeto_sso_connection"
# Google documents both forms for the iss of its ID tokens; every other issuer must match exactly.
ISSUER_ALIASES = {"https://accounts.google.com": ("accounts.google.com",)}
CLOCK_SKEW_SECONDS = 60


class IdTokenRejected(SuspiciousOperation):
    """The ID token failed verification (signature, issuer, audience, expiry, nonce or algorithm)."""


def callback_url(request: HttpRequest, connection: SSOConnection) -> str:
    """The redirect URI registered at the IdP: one per connection (a mix-up attack defence, RFC 9700 §4.4)."""
    return request.build_absolute_uri(
        reverse("jeto_identity:sso_callback", kwargs={"connection_id": connection.public_id})
    )


class OrganizationOIDCBackend(OIDCAuthenticationBackend):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Deliberately not super().__init__(): it reads (and requires) a single global IdP from settings.
        self.UserModel = get_user_model()
        self.connection: SSOConnection | None = None
        self.metadata: metadata.ProviderMetadata | None = None
        self.refusal: sso_service.SSOLoginRefused | None = None
        self.OIDC_RP_CLIENT_SECRET = ""

    # ---- per-connection configuration ----------------------------------------------------------------------

    def bind(self, connection: SSOConnection) -> None:
        self.connection = connection
        self.metadata = metadata.discovery(connection)
        self.OIDC_OP_TOKEN_ENDPOINT = self.metadata.token_endpoint
        self.OIDC_OP_USER_ENDPOINT = self.metadata.userinfo_endpoint
        self.OIDC_OP_JWKS_ENDPOINT = self.metadata.jwks_uri
        self.OIDC_RP_CLIENT_ID = connection.client_id
        self.OIDC_RP_CLIENT_SECRET = connection.get_client_secret()
        self.OIDC_RP_IDP_SIGN_KEY = None

    def get_settings(self, attr: str, *args: Any) -> Any:  # type: ignore[override]
        per_connection = {
            "OIDC_TIMEOUT": http.timeout(),
            "OIDC_VERIFY_SSL": True,
            "OIDC_PROXY": None,
            "OIDC_ALLOW_UNSECURED_JWT": False,
            "OIDC_USE_NONCE": True,
            "OIDC_STORE_ACCESS_TOKEN": False,
            "OIDC_STORE_ID_TOKEN": False,
            # HTTP Basic (the spec's default) unless the IdP only lists client_secret_post.
            "OIDC_TOKEN_USE_BASIC_AUTH": bool(self.OIDC_RP_CLIENT_SECRET)
            and (
                self.metadata is None
                or "client_secret_basic" in self.metadata.token_auth_methods
                or "client_secret_post" not in self.metadata.token_auth_methods
            ),
            "OIDC_RP_SCOPES": " ".join(self.connection.scope_list) if self.connection else "openid email",
        }
        if attr in per_connection:
            return per_connection[attr]
        return super().get_settings(attr, *args)

    # ---- the callback ----------------------------------------------------------------------------------------

    def authenticate(  # type: ignore[override]
        self, request: HttpRequest | None, nonce: str | None = None, code_verifier: str | None = None
    ):
        connection = getattr(request, CONNECTION_ATTR, None) if request is not None else None
        if connection is None:
            return None
        self.request = request
        self.bind(connection)
        code = request.GET.get("code")
        if not code or not request.GET.get("state") or not nonce or not code_verifier:
            return None
        token_payload = {
            "client_id": self.OIDC_RP_CLIENT_ID,
            "client_secret": self.OIDC_RP_CLIENT_SECRET,
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": callback_url(request, connection),
            "code_verifier": code_verifier,
        }
        if not self.OIDC_RP_CLIENT_SECRET:
            del token_payload["client_secret"]  # a public client: PKCE only
        elif self.get_settings("OIDC_TOKEN_USE_BASIC_AUTH"):
            # RFC 6749 §2.3.1: form-encode the credentials before HTTP Basic (mozilla passes them as given).
            token_payload["client_secret"] = quote(self.OIDC_RP_CLIENT_SECRET, safe="")
        token_info = self.get_token(token_payload)
        id_token = token_info.get("id_token")
        if not isinstance(id_token, str):
            raise IdTokenRejected("The IdP's token response has no ID token.")
        payload = self.verify_token(id_token, nonce=nonce)
        return self.get_or_create_user(token_info.get("access_token"), id_token, payload)

    def get_token(self, payload: dict[str, Any]) -> dict[str, Any]:
        http.check_url(self.OIDC_OP_TOKEN_ENDPOINT, "token endpoint")
        auth = None
        if self.get_settings("OIDC_TOKEN_USE_BASIC_AUTH", False):
            auth = HTTPBasicAuth(payload.get("client_id"), payload.pop("client_secret", ""))
        try:
            # Our own request rather than mozilla's: redirects are never followed (a 307 would re-POST the
            # client secret and code to wherever the IdP points, past check_url's address rules).
            response = requests.post(
                self.OIDC_OP_TOKEN_ENDPOINT, data=payload, auth=auth, timeout=http.timeout(), allow_redirects=False
            )
            if response.is_redirect:
                raise http.IdPError("The IdP's token endpoint answered with a redirect; redirects are not followed.")
            self.raise_token_response_error(response)
            return response.json()
        except requests.HTTPError as exc:
            # mozilla puts the response body in the message; keep it out of logs and pages.
            status = exc.response.status_code if exc.response is not None else "?"
            raise http.IdPError(f"The IdP refused the authorization code (HTTP {status}).") from None
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise http.IdPUnreachable("The IdP's token endpoint didn't answer.") from exc
        except (requests.RequestException, ValueError) as exc:
            raise http.IdPError("The IdP's token endpoint gave an unusable answer.") from exc

    # ---- ID token verification -------------------------------------------------------------------------------

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        assert self.connection is not None and self.metadata is not None
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise IdTokenRejected("The ID token is not a well-formed JWT.") from exc
        alg = header.get("alg")
        allowed = list(jeto_settings.SSO_ID_TOKEN_ALGORITHMS)
        if not isinstance(alg, str) or alg not in allowed or alg.lower() == "none" or alg.startswith("HS"):
            raise IdTokenRejected(f"ID token algorithm {alg!r} is not accepted.")
        kid = header.get("kid")
        key = metadata.signing_key(self.connection, kid if isinstance(kid, str) else None, alg)
        try:
            payload = jwt.decode(
                token,
                key=key,
                algorithms=[alg],
                audience=self.connection.client_id,
                issuer=[self.metadata.issuer, *ISSUER_ALIASES.get(self.metadata.issuer, ())],
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["iss", "sub", "aud", "exp", "iat"], "strict_aud": False},
            )
        except jwt.PyJWTError as exc:
            raise IdTokenRejected(f"The ID token failed verification: {exc}.") from exc
        aud = payload["aud"]
        azp = payload.get("azp")
        if (isinstance(aud, list) and len(aud) > 1 and azp is None) or (
            azp is not None and azp != self.connection.client_id
        ):
            raise IdTokenRejected("The ID token was issued to another client (azp).")
        nonce = kwargs.get("nonce")
        token_nonce = payload.get("nonce")
        if not nonce or not isinstance(token_nonce, str) or not constant_time_compare(nonce, token_nonce):
            raise IdTokenRejected("The ID token's nonce doesn't match this sign-in.")
        return payload

    # ---- claims -> user --------------------------------------------------------------------------------------

    def get_userinfo(self, access_token: str | None, id_token: str, payload: dict[str, Any]) -> dict[str, Any]:
        """ID-token claims, completed by the userinfo endpoint when there is one (its ``sub`` must match)."""
        claims = dict(payload)
        if not self.OIDC_OP_USER_ENDPOINT or not access_token:
            return claims
        http.check_url(self.OIDC_OP_USER_ENDPOINT, "userinfo endpoint")
        try:
            response = requests.get(
                self.OIDC_OP_USER_ENDPOINT,
                headers={"Authorization": f"Bearer {access_token}"},
                timeout=http.timeout(),
                allow_redirects=False,
            )
            if response.is_redirect:
                raise http.IdPError("The IdP's userinfo endpoint answered with a redirect; redirects are not followed.")
            response.raise_for_status()
            if response.headers.get("content-type", "").lower().startswith("application/jwt"):
                raise http.IdPError("Signed userinfo responses are not supported.")
            info = response.json()
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise http.IdPUnreachable("The IdP's userinfo endpoint didn't answer.") from exc
        except (requests.RequestException, ValueError) as exc:
            raise http.IdPError("The IdP's userinfo endpoint failed.") from exc
        if not isinstance(info, dict) or info.get("sub") != payload["sub"]:
            raise IdTokenRejected("The userinfo response is about someone else (sub mismatch).")
        for name, value in info.items():
            if name not in ("iss", "aud", "exp", "iat", "nonce", "azp", "sub"):
                claims.setdefault(name, value)
        return claims

    def get_or_create_user(self, access_token: str | None, id_token: str, payload: dict[str, Any]):
        assert self.connection is not None
        claims = self.get_userinfo(access_token, id_token, payload)
        outcome = sso_service.federated_sign_in(self.request, self.connection, claims)
        if outcome.link_confirmation is not None:
            # Not signed in yet: the callback view asks the account's holder to confirm with their credentials.
            self.request.jeto_sso_link_confirmation = outcome.link_confirmation
        if outcome.refusal is not None:
            self.refusal = outcome.refusal
            self.request.jeto_sso_refusal = outcome.refusal
        return outcome.user
