"""The client-credentials grant with fewer database round trips and less CPU, through DOT's validator.

Name ``FastPathsOAuth2Validator`` in ``OAUTH2_PROVIDER["OAUTH2_VALIDATOR_CLASS"]``; a host with its own
subclass of ``JetoOAuth2Validator`` lists the mixin after it (``class MyValidator(JetoOAuth2Validator,
FastPathsValidatorMixin)``), which puts the mixin right above DOT's ``OAuth2Validator`` in the MRO, under every
Jeto rule. It replaces three of DOT's internals for the client-credentials grant:

- ``_load_application``: the client read with ``lookup.ExactLookup`` (the ORM's SQL, compiled once);
- ``_create_access_token``: DOT's code for this grant with ``insert.FastInsert`` (the INSERT compiled once),
  committed without waiting for the WAL flush when ``JETO_IDENTITY["API_TOKEN_ASYNC_COMMIT"]`` is on
  (PostgreSQL; see docs/application-connections.md for what a database crash may then lose); every created
  token is handed to ``views.TokenView`` (``remember_issued``);
- ``save_bearer_token``: ``_save_bearer_token`` without DOT's surrounding transaction for this grant, which
  writes one row and rotates no refresh token (two round trips less; the asynchronous commit needs it).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from oauth2_provider.models import get_access_token_model, get_application_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.common import Request

from jeto_identity.conf import jeto_settings
from jeto_identity.contrib.fastpaths.insert import FastInsert
from jeto_identity.contrib.fastpaths.lookup import ExactLookup
from jeto_identity.contrib.fastpaths.views import remember_issued
from jeto_identity.provider.validators import JetoOAuth2Validator

CLIENT_CREDENTIALS = "client_credentials"


@cache
def _client_by_id() -> ExactLookup:
    return ExactLookup(get_application_model(), "client_id")


@cache
def _token_insert() -> FastInsert:
    return FastInsert(get_access_token_model())


class FastPathsValidatorMixin(OAuth2Validator):
    """Replaces three of DOT's internals for the client-credentials grant; every other grant is DOT's."""

    def _load_application(self, client_id: str, request: Request):
        if request.grant_type != CLIENT_CREDENTIALS or request.client:
            return super()._load_application(client_id, request)
        # DOT's lookup minus the ORM compile (and minus CIMD, which is for public clients only).
        client = _client_by_id().get(str(client_id))
        if client is None or not client.is_usable(request):
            return None
        request.client = client
        return client

    def _create_access_token(self, expires, request: Request, token: dict, source_refresh_token=None):
        if request.grant_type != CLIENT_CREDENTIALS or token.get("id_token") or source_refresh_token is not None:
            access_token = super()._create_access_token(expires, request, token, source_refresh_token)
            remember_issued(access_token)
            return access_token
        # DOT's _create_access_token for this grant (no user, no ID token, no refresh token);
        # test_fastpaths checks the row equals the one DOT's own code writes.
        access_token = get_access_token_model()(
            user=None,
            scope=token["scope"],
            expires=expires,
            id_token=None,
            application=request.client,
            source_refresh_token=None,
            resource=getattr(request, "resource", []),
        )
        self._set_token_value(access_token, token["access_token"])
        _token_insert().save(access_token, asynchronous_commit=bool(jeto_settings.API_TOKEN_ASYNC_COMMIT))
        remember_issued(access_token)
        return access_token

    def save_bearer_token(self, token: dict, request: Request, *args: Any, **kwargs: Any):
        if request.grant_type == CLIENT_CREDENTIALS:
            return self._save_bearer_token(token, request, *args, **kwargs)  # one INSERT, in autocommit
        return super().save_bearer_token(token, request, *args, **kwargs)


class FastPathsOAuth2Validator(JetoOAuth2Validator, FastPathsValidatorMixin):
    """``JetoOAuth2Validator`` with the fast paths; its MRO puts the mixin right above DOT's validator."""
