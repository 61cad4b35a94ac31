"""The client-credentials grant for application connections, as a mixin over DOT's ``OAuth2Validator``.

What it adds to DOT's defaults:

- the client secret is checked against the current hash and, within the rotation grace period, the previous
  one; an unknown client spends the same work and gets the same ``invalid_client`` as a wrong secret;
- only confidential clients that belong to an organisation may use the grant (public clients: unauthorized_client);
- scopes are limited to the client's ``allowed_scopes`` (asking for more is ``invalid_scope``; asking for none
  grants all it holds);
- the per-client token lifetime, no refresh token (oauthlib never issues one for this grant) and no ID token;
- ``last_used_at`` is recorded, at most once a minute.
"""

from __future__ import annotations

import base64
import binascii
import json
from contextvars import ContextVar
from typing import Any
from urllib.parse import unquote_plus

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from oauth2_provider import views as oauth2_views
from oauth2_provider.models import get_access_token_model
from oauth2_provider.signals import app_authorized
from oauthlib.common import Request

from ..conf import jeto_settings
from ..models import OAuthClient
from ..services import clients

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
            # One INSERT in autocommit: DOT's surrounding transaction guards refresh-token rotation, which this
            # grant never does (no refresh token), and costs two extra database round trips per grant.
            result = self._save_bearer_token(token, request, *args, **kwargs)
            clients.touch_last_used(request.client)
            return result
        return super().save_bearer_token(token, request, *args, **kwargs)


# The token view below reuses the AccessToken the validator just created (DOT's own view reads it back from the
# database by checksum only to send ``app_authorized``): one round trip less per grant.
_issued_tokens: ContextVar[list | None] = ContextVar("jeto_issued_tokens", default=None)


class IssuedTokenCaptureMixin:
    """Validator side: remember access tokens created during the current token request."""

    def _create_access_token(self, expires, request, token, source_refresh_token=None):
        access_token = super()._create_access_token(expires, request, token, source_refresh_token)
        bucket = _issued_tokens.get()
        if bucket is not None:
            bucket.append(access_token)
        return access_token


class TokenView(oauth2_views.TokenView):
    """DOT's token endpoint, sending ``app_authorized`` with the token already in hand."""

    @method_decorator(sensitive_post_parameters("password", "client_secret"))
    def authorization_flow_token_response(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        bucket: list = []
        reset = _issued_tokens.set(bucket)
        try:
            url, headers, body, status = self.create_token_response(request)
        finally:
            _issued_tokens.reset(reset)
        if status == 200:
            if bucket:
                app_authorized.send(sender=self, request=request, token=bucket[-1])
            else:  # not created by this validator (e.g. reused on refresh): DOT's way
                return super().authorization_flow_token_response(request, *args, **kwargs)
        response = HttpResponse(content=body, status=status)
        for key, value in headers.items():
            response[key] = value
        return response


class IntrospectTokenView(oauth2_views.IntrospectTokenView):
    """DOT's RFC 7662 endpoint, except that an application connection learns about its own tokens only.

    Stock DOT answers any authenticated client about any token; a connection of one organisation must not learn
    anything about another's tokens, so those are reported ``{"active": false}`` like unknown ones.
    """

    def _restricted(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if response.status_code != 200:
            return response
        caller = _caller_client_id(request)
        client = (
            OAuthClient.objects.filter(client_id=caller).only("authorization_grant_type").first() if caller else None
        )
        if client is not None and client.authorization_grant_type != OAuthClient.GRANT_CLIENT_CREDENTIALS:
            return response  # a relying party or resource server: DOT's behaviour
        data = json.loads(response.content or b"{}")
        if data.get("active") and (caller is None or data.get("client_id") != caller):
            return JsonResponse({"active": False})
        return response

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._restricted(request, super().get(request, *args, **kwargs))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._restricted(request, super().post(request, *args, **kwargs))


def _caller_client_id(request: HttpRequest) -> str | None:
    """The one client that authenticated to the introspection endpoint (Basic, body or a bearer token's client).

    None when no client, or more than one, is named: the caller is then treated as an application connection.
    """
    named: set[str] = set()
    scheme, _, value = (request.META.get("HTTP_AUTHORIZATION") or "").strip().partition(" ")
    if scheme.lower() == "basic":
        try:
            client_id, _, _ = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, ValueError):
            return None
        named.add(unquote_plus(client_id))
    elif scheme.lower() == "bearer":
        from ..services.bearer import checksum

        token = get_access_token_model().objects.filter(token_checksum=checksum(value.strip()))
        named.add(token.values_list("application__client_id", flat=True).first() or "")
    if request.POST.get("client_id"):
        named.add(request.POST["client_id"])
    return named.pop() if len(named) == 1 and "" not in named else None
