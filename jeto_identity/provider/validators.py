"""``JetoOAuth2Validator``: django-oauth-toolkit's validator with Jeto's claims, keys and replay defences."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone
from jwcrypto import jwk, jws
from oauth2_provider.models import AbstractApplication, get_grant_model, get_refresh_token_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.utils import jwk_from_pem
from oauthlib.oauth2.rfc6749 import errors

from jeto_identity.conf import jeto_settings
from jeto_identity.connections.grant import ClientCredentialsValidatorMixin
from jeto_identity.provider import claims as claim_rules
from jeto_identity.provider.models import AuthenticationContext, code_hash

log = logging.getLogger("jeto_identity.provider")

Grant = get_grant_model()
RefreshToken = get_refresh_token_model()

# Set by the authorization view on the credentials oauthlib copies onto its request.
AUTH_CREDENTIAL = "jeto_auth"


def verification_keys() -> jwk.JWKSet:
    """Every published key (current and previous) for verifying our own ID tokens (id_token_hint, logout)."""
    keyset = jwk.JWKSet()
    for pem in [oauth2_settings.OIDC_RSA_PRIVATE_KEY, *oauth2_settings.OIDC_RSA_PRIVATE_KEYS_INACTIVE]:
        if pem:
            key = jwk_from_pem(pem)
            public = jwk.JWK(**json.loads(key.export_public()))
            public.update(kid=key.thumbprint())  # DOT signs with the thumbprint as kid
            keyset.add(public)
    return keyset


_CLIENTS_MEMO = "_jeto_oauth_clients"


def remembered_client(client_id: str) -> Any:
    """The client this HTTP request already loaded by that ID, or None.

    One authorization request asks for its client several times (oauthlib validates the request, the view reads
    the client, oauthlib creates the response); the row is read once per request.
    """
    from jeto_identity.core.middleware import current_request

    return getattr(current_request(), _CLIENTS_MEMO, {}).get(client_id)


def _remember_client(client: Any) -> None:
    from jeto_identity.core.middleware import current_request

    request = current_request()
    if request is None:
        return
    memo = getattr(request, _CLIENTS_MEMO, None)
    if memo is None:
        memo = {}
        setattr(request, _CLIENTS_MEMO, memo)
    memo[client.client_id] = client


class JetoOAuth2Validator(ClientCredentialsValidatorMixin, OAuth2Validator):
    """Application connections' client-credentials rules come from ``ClientCredentialsValidatorMixin``."""

    oidc_claim_scope = claim_rules.CLAIM_SCOPES

    # --- clients ---------------------------------------------------------------------------------------------

    def _load_application(self, client_id: str, request: Any):
        if not isinstance(client_id, str) or not client_id or len(client_id) > 255 or "\x00" in client_id:
            return None
        if not request.client:
            request.client = remembered_client(client_id)
        client = super()._load_application(client_id, request)
        if client is not None and not client.enabled:
            request.client = None
            return None
        if client is not None:
            _remember_client(client)
        return client

    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs) -> bool:
        if not super().validate_scopes(client_id, scopes, client, request, *args, **kwargs):
            return False
        if "openid" in scopes and (
            client.algorithm != AbstractApplication.RS256_ALGORITHM
            or client.authorization_grant_type != AbstractApplication.GRANT_AUTHORIZATION_CODE
        ):
            return False
        if client.authorization_grant_type == AbstractApplication.GRANT_AUTHORIZATION_CODE and set(scopes) & set(
            jeto_settings.API_SCOPES
        ):
            # Jeto API scopes belong to an organisation's application connections, never to a user's relying party.
            return False
        allowed = set((client.allowed_scopes or "").split())
        return not allowed or set(scopes) <= allowed

    # --- redirect URIs: always explicit ----------------------------------------------------------------------

    def get_default_redirect_uri(self, client_id, request, *args, **kwargs):
        """None, so oauthlib refuses a missing ``redirect_uri`` as a fatal error (our error page, never a redirect).

        OpenID Connect Core 3.1.2.1 makes ``redirect_uri`` REQUIRED on every authorization request, even for a
        client with a single registered URI; every code is therefore issued to an explicit URI, which the token
        request must repeat (RFC 6749 4.1.3).
        """
        return None

    # --- prompt=none: the authorization view decides with the browser session at hand ------------------------

    def validate_silent_login(self, request: Any) -> bool:
        return True

    def validate_silent_authorization(self, request: Any) -> bool:
        return True

    # --- authorization codes: capture amr/auth_time; single use --------------------------------------------

    def _create_authorization_code(self, request, code, expires=None):
        grant = super()._create_authorization_code(request, code, expires)
        auth = getattr(request, AUTH_CREDENTIAL, None) or {}
        auth_time = auth.get("auth_time")
        AuthenticationContext.objects.create(
            code_hash=code_hash(code["code"]),
            application=request.client,
            user=request.user,
            auth_time=datetime.fromtimestamp(auth_time, tz=UTC)
            if auth_time
            else (request.user.last_login or timezone.now()),
            amr=list(auth.get("amr") or []),
            session_id=auth.get("session_id") or None,
        )
        return grant

    def validate_code(self, client_id, code, client, request, *args, **kwargs) -> bool:
        """DOT's checks, with the grant row locked (concurrent redemptions serialise) and cached for the
        PKCE/redirect/nonce look-ups that follow; a replayed code revokes its first redemption's tokens."""
        grant = Grant.objects.select_for_update().select_related("user").filter(code=code, application=client).first()
        if grant is None:
            self._revoke_if_replayed(code, client)
            return False
        if grant.is_expired() or not grant.user.is_active:
            return False
        request.scopes = grant.scope.split(" ")
        request.user = grant.user
        if grant.nonce:
            request.nonce = grant.nonce
        if grant.claims:
            request.claims = json.loads(grant.claims)
        request.jeto_grant = grant
        request.jeto_context = AuthenticationContext.objects.filter(code_hash=code_hash(code)).first()
        return True

    def _grant(self, code: str, request: Any):
        grant = getattr(request, "jeto_grant", None)
        return grant if grant is not None and grant.code == code else None

    def get_code_challenge(self, code, request):
        grant = self._grant(code, request)
        return (grant.code_challenge or None) if grant else super().get_code_challenge(code, request)

    def get_code_challenge_method(self, code, request):
        grant = self._grant(code, request)
        return (grant.code_challenge_method or None) if grant else super().get_code_challenge_method(code, request)

    def confirm_redirect_uri(self, client_id, code, redirect_uri, client, *args, **kwargs):
        """A ``redirect_uri`` other than the one the code was issued to is ``invalid_grant`` (RFC 6749 5.2: the
        grant "does not match the redirection URI used in the authorization request"), not oauthlib's
        ``invalid_request``."""
        request = kwargs.get("request") or (args[0] if args else None)
        grant = self._grant(code, request)
        if grant is not None:
            confirmed = grant.redirect_uri_allowed(redirect_uri)
        else:
            confirmed = super().confirm_redirect_uri(client_id, code, redirect_uri, client, *args, **kwargs)
        if not confirmed:
            raise errors.InvalidGrantError(
                description="The redirect_uri does not match the one the code was issued to.", request=request
            )
        return True

    def get_authorization_code_nonce(self, client_id, code, redirect_uri, request):
        grant = self._grant(code, request)
        if grant is not None:
            return grant.nonce or None
        return super().get_authorization_code_nonce(client_id, code, redirect_uri, request)

    def _revoke_if_replayed(self, code: str, client: Any) -> None:
        """A second use of a redeemed code revokes every token its first use issued (RFC 6749 4.1.2)."""
        context = (
            AuthenticationContext.objects.select_for_update()
            .filter(code_hash=code_hash(code), application=client, redeemed_at__isnull=False)
            .first()
        )
        if context is None:
            return
        log.warning("Authorization code replayed for client %s; revoking its tokens.", client.client_id)
        if context.token_family:
            RefreshToken.revoke_family(context.token_family)

    def _save_bearer_token(self, token, request, *args, **kwargs):
        super()._save_bearer_token(token, request, *args, **kwargs)
        refresh = token.get("refresh_token")
        family = None
        if refresh:
            checksum = hashlib.sha256(refresh.encode("utf-8")).hexdigest()
            family = (
                RefreshToken.objects.filter(token_checksum=checksum, revoked__isnull=True)
                .values_list("token_family", flat=True)
                .first()
            )
        context = getattr(request, "jeto_context", None)
        if request.grant_type == "authorization_code" and context is not None:
            context.redeemed_at = timezone.now()
            context.token_family = family
            context.save(update_fields=["redeemed_at", "token_family"])

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs) -> bool:
        valid = super().validate_refresh_token(refresh_token, client, request, *args, **kwargs)
        if valid and not request.user.is_active:
            return False  # a deactivated account can't keep a relying-party session alive
        if valid:
            family = request.refresh_token_instance.token_family
            request.jeto_context = AuthenticationContext.objects.filter(token_family=family).first() if family else None
        return valid

    def validate_bearer_token(self, token, scopes, request) -> bool:
        valid = super().validate_bearer_token(token, scopes, request)
        if valid and request.user is not None and not request.user.is_active:
            request.oauth2_error = {"error": "invalid_token", "error_description": "The account is deactivated."}
            return False
        return valid

    # --- claims ----------------------------------------------------------------------------------------------

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        return claim_rules.user_claims(request.user)

    def get_discovery_claims(self, request: Any) -> list[str]:
        return claim_rules.supported_claims()

    def get_oidc_claims(self, token, token_handler, request) -> dict[str, Any]:
        return {k: v for k, v in super().get_oidc_claims(token, token_handler, request).items() if v is not None}

    def get_id_token_dictionary(self, token, token_handler, request):
        claims, expiration_time = super().get_id_token_dictionary(token, token_handler, request)
        context = getattr(request, "jeto_context", None)
        if context is not None:
            claims["auth_time"] = int(context.auth_time.timestamp())
            if context.amr:
                claims["amr"] = list(context.amr)
        return claims, expiration_time

    # --- our own ID tokens (id_token_hint at logout) ------------------------------------------------------------

    def _get_key_for_token(self, token: str):
        """Verify with every published key; malformed tokens are simply not ours (never a 500)."""
        try:
            unverified = jws.JWS()
            unverified.deserialize(token)
            payload = json.loads(unverified.objects["payload"].decode("utf-8"))
        except Exception:  # noqa: BLE001 - any parse failure means "not a token we issued"
            return None
        if not isinstance(payload, dict) or "aud" not in payload:
            return None
        if not self._get_client_by_audience(payload["aud"]):
            return None
        return verification_keys()

    def _get_client_by_audience(self, audience):
        if isinstance(audience, str):
            audience = [audience]
        if not isinstance(audience, list) or not all(isinstance(a, str) for a in audience):
            return None
        return super()._get_client_by_audience(audience)


def id_token_hint_subject(hint: str, issuer: str) -> str | None:
    """The ``sub`` of an ID token we issued (expired ones included, as OIDC Core allows for hints), else None."""
    from jwcrypto import jwt
    from jwcrypto.common import JWException

    validator = JetoOAuth2Validator()
    key = validator._get_key_for_token(hint)
    if key is None:
        return None
    try:
        claims = json.loads(jwt.JWT(key=key, jwt=hint, check_claims={}).claims)
    except (JWException, ValueError, TypeError):
        return None
    if not isinstance(claims, dict) or claims.get("iss") != issuer or not isinstance(claims.get("sub"), str):
        return None
    return claims["sub"]
