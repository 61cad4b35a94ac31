"""The client-credentials grant for application connections, as a mixin over DOT's ``OAuth2Validator``.

What it adds to DOT's defaults:

- the client secret is checked against the current hash and, within the rotation grace period, the previous
  one; an unknown client spends the same work and gets the same ``invalid_client`` as a wrong secret;
- only confidential clients that belong to an organisation may use the grant (public clients: unauthorized_client);
- scopes are limited to the client's ``allowed_scopes`` (asking for more is ``invalid_scope``; asking for none
  grants all it holds);
- the per-client token lifetime, no refresh token (oauthlib never issues one for this grant) and no ID token;
- ``last_used_at`` is recorded, at most once a minute;
- the organisation's plan must include application connections (``orgadmin.plans``), else ``unauthorized_client``.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import unquote_plus

from oauthlib.common import Request

from jeto_identity.conf import jeto_settings
from jeto_identity.connections import services as clients
from jeto_identity.models import OAuthClient
from jeto_identity.orgadmin import plans

CLIENT_CREDENTIALS = "client_credentials"


def presented_credentials(request: Request) -> tuple[str, str] | None:
    """(client_id, client_secret) from client_secret_basic or client_secret_post; None when absent or malformed.

    Presenting both methods at once is refused (RFC 6749 §2.3: a client MUST NOT use more than one).
    """
    header = request.headers.get("HTTP_AUTHORIZATION") or request.headers.get("Authorization") or ""
    body_id = getattr(request, "client_id", None)
    body_secret = getattr(request, "client_secret", None)
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() == "basic":
        if body_secret:
            return None
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return None
        client_id, sep, secret = decoded.partition(":")
        if not sep:
            return None
        client_id, secret = unquote_plus(client_id), unquote_plus(secret)
        if body_id and body_id != client_id:
            return None
        return (client_id, secret) if client_id and secret else None
    if body_id and body_secret:
        return str(body_id), str(body_secret)
    return None


class ClientCredentialsValidatorMixin:
    """Mix in before DOT's ``OAuth2Validator``."""

    def _load_application(self, client_id, request):
        # DOT only catches the ValueError psycopg2 raised for a NUL byte; psycopg 3 raises DataError (a 500).
        # No client ID contains one, so such a request names no client.
        if client_id is None or "\x00" in str(client_id):
            return None
        return super()._load_application(client_id, request)

    def authenticate_client(self, request: Request, *args: Any, **kwargs: Any) -> bool:
        creds = presented_credentials(request)
        if creds is None:
            if request.grant_type == CLIENT_CREDENTIALS:
                request.client = None
                return False
            return super().authenticate_client(request, *args, **kwargs)
        client_id, secret = creds
        client = self._load_application(client_id, request)
        if client is None:
            clients.burn_secret_check(secret)
            return False
        if client.authorization_grant_type != OAuthClient.GRANT_CLIENT_CREDENTIALS:
            if request.grant_type == CLIENT_CREDENTIALS:
                clients.check_client_secret(client, secret)  # same work, same answer as a wrong secret
                request.client = None
                return False
            return super().authenticate_client(request, *args, **kwargs)
        if not clients.check_client_secret(client, secret):
            request.client = None
            return False
        request.client_id = client.client_id
        return True

    def validate_grant_type(self, client_id, grant_type, client, request, *args: Any, **kwargs: Any) -> bool:
        if grant_type == CLIENT_CREDENTIALS:
            return (
                client is not None
                and client.client_type == OAuthClient.CLIENT_CONFIDENTIAL
                and client.authorization_grant_type == OAuthClient.GRANT_CLIENT_CREDENTIALS
                and client.organization_id is not None
                and client.enabled
                # The plan (API Integrations programme): off, the client keeps its secret but gets no token.
                and plans.is_entitled(client.organization_id, plans.API_CLIENTS)
            )
        return super().validate_grant_type(client_id, grant_type, client, request, *args, **kwargs)

    @staticmethod
    def _held_scopes(client: OAuthClient) -> list[str]:
        known = clients.api_scopes()
        return [s for s in (client.allowed_scopes or "").split() if s in known]

    def validate_scopes(self, client_id, scopes, client, request, *args: Any, **kwargs: Any) -> bool:
        if request.grant_type == CLIENT_CREDENTIALS:
            return bool(scopes) and set(scopes) <= set(self._held_scopes(client))
        return super().validate_scopes(client_id, scopes, client, request, *args, **kwargs)

    def get_default_scopes(self, client_id, request, *args: Any, **kwargs: Any) -> list[str]:
        if request.grant_type == CLIENT_CREDENTIALS and request.client is not None:
            return self._held_scopes(request.client)
        return super().get_default_scopes(client_id, request, *args, **kwargs)

    def save_bearer_token(self, token: dict, request: Request, *args: Any, **kwargs: Any):
        if request.grant_type == CLIENT_CREDENTIALS:
            token.pop("refresh_token", None)
            token.pop("id_token", None)
            lifetime = request.client.access_token_lifetime or jeto_settings.API_TOKEN_LIFETIME
            token["expires_in"] = int(lifetime)
            result = super().save_bearer_token(token, request, *args, **kwargs)
            clients.touch_last_used(request.client)
            return result
        return super().save_bearer_token(token, request, *args, **kwargs)
