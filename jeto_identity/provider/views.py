"""Thin subclasses of django-oauth-toolkit's views: the authorization endpoint's prompt/max_age/consent rules,
RFC 9207 ``iss`` on every authorization response, precise discovery, client-bound introspection, hardened logout.
"""

from __future__ import annotations

import calendar
import hashlib
import json
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider import views as dot_views
from oauth2_provider.exceptions import InvalidOIDCClientError, OAuthToolkitError
from oauth2_provider.models import get_access_token_model, get_application_model, get_refresh_token_model
from oauth2_provider.scopes import get_scopes_backend
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.views.mixins import OAuthLibMixin
from oauthlib.common import Request as OauthlibRequest
from oauthlib.common import add_params_to_uri
from oauthlib.oauth2.rfc6749.errors import InvalidRequestFatalError

from jeto_identity.conf import jeto_settings
from jeto_identity.login.services import session_auth_info
from jeto_identity.provider import consent
from jeto_identity.provider import prompt as prompt_rules
from jeto_identity.provider.server import (
    SUPPORTED_RESPONSE_MODES,
    malformed_query,
    offered_code_challenge_methods,
    offered_grant_types,
    offered_response_types,
)
from jeto_identity.provider.validators import AUTH_CREDENTIAL, id_token_hint_subject, remembered_client
from jeto_identity.throttle.token_view import ThrottledTokenMixin

Application = get_application_model()
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def with_iss(uri: str, issuer: str) -> str:
    """Add RFC 9207's ``iss`` to an authorization response (replacing any ``iss`` already in the query)."""
    parts = urlsplit(uri)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "iss"]
    query.append(("iss", issuer))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _without(path: str, *names: str) -> str:
    parts = urlsplit(path)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in names]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _has_nul(data: Any) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in data.lists())


class WellFormedQueryMixin:
    """Broken percent-escapes (oauthlib raises ValueError) and NUL bytes (PostgreSQL refuses them in text) get a
    400 invalid_request instead of a 500."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if malformed_query(request.META.get("QUERY_STRING", "")) or _has_nul(request.GET):
            return self.malformed_response(request)
        if request.method == "POST" and _has_nul(request.POST):
            return self.malformed_response(request)
        return super().dispatch(request, *args, **kwargs)

    def malformed_response(self, request: HttpRequest) -> HttpResponse:
        return JsonResponse({"error": "invalid_request", "error_description": "Malformed query string."}, status=400)


@method_decorator(never_cache, name="dispatch")
class AuthorizationView(WellFormedQueryMixin, dot_views.AuthorizationView):
    """The authorization endpoint. Unknown clients and unregistered redirect URIs get an error page, never a
    redirect; everything else answers the client at its registered redirect URI, with ``iss``."""

    template_name = "jeto_identity/provider/authorize.html"

    def malformed_response(self, request: HttpRequest) -> HttpResponse:
        error = InvalidRequestFatalError(description="Malformed query string.")
        return self.render_to_response({"error": error}, status=400)

    # --- redirects back to the client ------------------------------------------------------------------------

    def redirect(self, redirect_to: str, application: Any) -> HttpResponse:
        issuer = oauth2_settings.oauth2_authorization_server_issuer(self.request)
        return super().redirect(with_iss(redirect_to, issuer), application)

    def _error_to_client(self, credentials: dict[str, Any], application: Any, error: str) -> HttpResponse:
        params = [("error", error)]
        if credentials.get("state"):
            params.append(("state", credentials["state"]))
        return self.redirect(add_params_to_uri(credentials["redirect_uri"], params), application)

    # --- sending the browser to our login pages --------------------------------------------------------------

    def _login_redirect(self, force: bool) -> HttpResponse:
        """To the email step with the authorization request as ``next`` (prompt/max_age already satisfied by
        signing in), ``login_hint`` prefilled, and ``prompt=login`` so a signed-in browser sees the form."""
        next_url = _without(self.request.get_full_path(), "prompt", "max_age")
        params = {"next": next_url}
        login_hint = self.request.GET.get("login_hint", "")
        if login_hint:
            params["login_hint"] = login_hint[:254]
        if force:
            params["prompt"] = "login"
        return HttpResponseRedirect(f"{reverse('jeto_identity:login')}?{urlencode(params)}")

    def _validated(self) -> tuple[list[str], dict[str, Any]] | HttpResponse:
        try:
            return self.validate_authorization_request(self.request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)

    def handle_no_permission(self) -> HttpResponse:
        prompt = prompt_rules.parse_prompt(self.request.GET.get("prompt"))
        if "none" in prompt:
            return super().handle_no_permission()  # DOT validates, then login_required to the client
        validated = self._validated()
        if isinstance(validated, HttpResponse):
            return validated
        return self._login_redirect(force=False)

    def handle_prompt_login(self) -> HttpResponse:
        return self._login_redirect(force=True)

    # --- the authorization request of a signed-in browser ----------------------------------------------------

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        validated = self._validated()
        if isinstance(validated, HttpResponse):
            return validated
        scopes, credentials = validated
        application = remembered_client(credentials["client_id"]) or Application.objects.get(
            client_id=credentials["client_id"]
        )
        prompt = prompt_rules.parse_prompt(request.GET.get("prompt"))
        decision = prompt_rules.decide(prompt, request.GET.get("max_age"), session_auth_info(request).get("auth_time"))
        hint = request.GET.get("id_token_hint")
        if hint:
            issuer = oauth2_settings.oidc_issuer(request)
            subject = id_token_hint_subject(hint, issuer)
            if subject is None:
                return self._error_to_client(credentials, application, "invalid_request")
            if subject != str(request.user.pk):  # another user than the one signed in here
                if "none" in prompt:
                    return self._error_to_client(credentials, application, "login_required")
                decision = prompt_rules.Decision.REAUTHENTICATE
        if decision is prompt_rules.Decision.LOGIN_REQUIRED:
            return self._error_to_client(credentials, application, "login_required")
        if decision is prompt_rules.Decision.REAUTHENTICATE:
            return self._login_redirect(force=True)

        if isinstance(credentials.get("ui_locales"), list):
            credentials["ui_locales"] = " ".join(credentials["ui_locales"])
        credentials.pop("resource", None)

        if not consent.required(request.user, application, scopes, prompt):
            try:
                uri, _headers, _body, _status = self.create_authorization_response(
                    request=request, scopes=" ".join(scopes), credentials=credentials, allow=True
                )
            except OAuthToolkitError as error:
                return self.error_response(error, application)
            return self.redirect(uri, application)
        if "none" in prompt:
            return self._error_to_client(credentials, application, "consent_required")

        all_scopes = get_scopes_backend().get_all_scopes()
        kwargs.update(
            application=application,
            scopes=scopes,
            scopes_descriptions=[all_scopes[s] for s in scopes],
            client_id=credentials["client_id"],
            redirect_uri=credentials["redirect_uri"],
            response_type=credentials["response_type"],
            state=credentials["state"],
            code_challenge=credentials.get("code_challenge"),
            code_challenge_method=credentials.get("code_challenge_method"),
            nonce=credentials.get("nonce"),
            claims=json.dumps(credentials["claims"]) if credentials.get("claims") else None,
        )
        self.oauth2_data = kwargs
        kwargs["form"] = self.get_form(self.get_form_class())
        return self.render_to_response(self.get_context_data(**kwargs))

    def form_valid(self, form):
        client_id = form.cleaned_data["client_id"]
        if not Application.objects.filter(client_id=client_id, enabled=True).exists():
            return self.render_to_response({"error": InvalidOIDCClientError()}, status=400)
        return super().form_valid(form)

    def form_invalid(self, form):
        error = InvalidRequestFatalError(description="The consent form was incomplete or tampered with.")
        return self.render_to_response({"error": error}, status=400)

    def create_authorization_response(self, request, scopes, credentials, allow):
        credentials = {**credentials, AUTH_CREDENTIAL: session_auth_info(request)}
        return super().create_authorization_response(request, scopes, credentials, allow)


@method_decorator(csrf_exempt, name="dispatch")
class TokenView(WellFormedQueryMixin, ThrottledTokenMixin, dot_views.TokenView):
    """The token endpoint, one transaction per request (serialises concurrent redemptions of one code).

    Client-credentials grants skip the transaction: they redeem nothing and write one row (application
    connections: two database round trips less per grant).

    Client-secret guessing is throttled per client ID and per address (``ThrottledTokenMixin``, django-axes).

    A failed client authentication (401 ``invalid_client``) challenges with the scheme the client used (RFC 6749
    5.2): ``Basic`` after HTTP Basic, none after ``client_secret_post``; never oauthlib's ``Bearer`` challenge,
    which belongs to resource servers.
    """

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.POST.get("grant_type") == DEVICE_CODE_GRANT and DEVICE_CODE_GRANT not in offered_grant_types():
            # DOT's view answers device-code polls itself, before the server's grant dispatch could refuse them.
            return JsonResponse({"error": "unsupported_grant_type"}, status=400, headers={"Cache-Control": "no-store"})
        if request.POST.get("grant_type") == "client_credentials":
            response = super().post(request, *args, **kwargs)
        else:
            with transaction.atomic():
                response = super().post(request, *args, **kwargs)
        if response.status_code == 401:
            client_authentication_challenge(request, response)
        return response


def client_authentication_challenge(request: HttpRequest, response: HttpResponse) -> None:
    """Set the 401's ``WWW-Authenticate`` to the scheme the client authenticated with (RFC 6749 5.2)."""
    if "WWW-Authenticate" in response:
        del response["WWW-Authenticate"]
    if request.META.get("HTTP_AUTHORIZATION", "")[:6].lower() == "basic ":
        realm = str(jeto_settings.SITE_NAME).replace("\\", "").replace('"', "").strip() or "Jeto"
        response["WWW-Authenticate"] = f'Basic realm="{realm}", charset="UTF-8"'


@method_decorator(csrf_exempt, name="dispatch")
class UserInfoView(WellFormedQueryMixin, dot_views.UserInfoView):
    """Userinfo by bearer header (or form body); never an access token in the query string (RFC 9700 4.3.2)."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if "access_token" in request.GET:
            response = JsonResponse(
                {"error": "invalid_request", "error_description": "Send the access token in the Authorization header."},
                status=400,
            )
            response["WWW-Authenticate"] = 'Bearer error="invalid_request"'
            return response
        return super().dispatch(request, *args, **kwargs)


@method_decorator(csrf_exempt, name="dispatch")
class RevokeTokenView(WellFormedQueryMixin, dot_views.RevokeTokenView):
    """RFC 7009; DOT scopes revocation to the authenticated client's own tokens."""


class DiscoveryView(dot_views.ConnectDiscoveryInfoView):
    """OpenID Provider Metadata advertising exactly what this server accepts."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().get(request, *args, **kwargs)
        data = json.loads(response.content)
        auth_methods = oauth2_settings.OIDC_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED
        confidential_methods = [m for m in auth_methods if m != "none"]
        data.update(
            {
                "response_modes_supported": sorted(SUPPORTED_RESPONSE_MODES),
                "grant_types_supported": offered_grant_types(),
                "response_types_supported": offered_response_types(),
                "code_challenge_methods_supported": offered_code_challenge_methods(),
                "id_token_signing_alg_values_supported": ["RS256"],
                "prompt_values_supported": ["none", "login", "consent"],
                "authorization_response_iss_parameter_supported": True,
                "revocation_endpoint": self._get_endpoint_url(request, "revoke-token", required=True),
                "revocation_endpoint_auth_methods_supported": auth_methods,
                "introspection_endpoint": self._get_endpoint_url(request, "introspect", required=True),
                "introspection_endpoint_auth_methods_supported": confidential_methods,
                "claims_supported": sorted(data.get("claims_supported", [])),
                "claims_parameter_supported": False,
                "request_parameter_supported": False,
                "request_uri_parameter_supported": False,
            }
        )
        data.pop("client_id_metadata_document_supported", None)
        fresh = JsonResponse(data)
        fresh["Access-Control-Allow-Origin"] = "*"
        fresh["Cache-Control"] = "public, max-age=300"
        return fresh


@method_decorator(csrf_exempt, name="dispatch")
class IntrospectTokenView(WellFormedQueryMixin, OAuthLibMixin, View):
    """RFC 7662 for authenticated confidential clients, and only about their own tokens.

    Anything else (unknown, expired, revoked, or another client's token) is ``{"active": false}``.
    """

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        client = self._authenticated_client(request)
        if client is None:
            response = JsonResponse({"error": "invalid_client"}, status=401)
            response["WWW-Authenticate"] = 'Basic realm="introspection"'
            return response
        token = request.POST.get("token")
        if not token or len(token) > 4096:
            return JsonResponse({"error": "invalid_request", "error_description": "token is required."}, status=400)
        return JsonResponse(self._introspect(token, client), headers={"Cache-Control": "no-store"})

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return JsonResponse({"error": "invalid_request", "error_description": "Use POST (RFC 7662)."}, status=405)

    def _authenticated_client(self, request: HttpRequest) -> Any:
        core = self.get_oauthlib_core()
        uri, http_method, body, headers = core._extract_params(request)
        oauth_request = OauthlibRequest(uri, http_method, body, headers)
        validator = core.server.request_validator
        if not validator.authenticate_client(oauth_request):
            return None
        client = oauth_request.client
        if client is None or client.client_type != Application.CLIENT_CONFIDENTIAL:
            return None
        return client

    @staticmethod
    def _introspect(token: str, client: Any) -> dict[str, Any]:
        checksum = hashlib.sha256(token.encode("utf-8")).hexdigest()
        access = (
            get_access_token_model()
            .objects.select_related("user")
            .filter(token_checksum=checksum, application=client)
            .first()
        )
        if access is not None:
            if not access.is_valid():
                return {"active": False}
            return IntrospectTokenView._describe(access.scope, access.expires, access.user, client, "Bearer")
        refresh = (
            get_refresh_token_model()
            .objects.select_related("user", "access_token")
            .filter(token_checksum=checksum, application=client, revoked__isnull=True)
            .first()
        )
        if refresh is None or refresh.access_token is None:
            return {"active": False}
        return IntrospectTokenView._describe(refresh.access_token.scope, None, refresh.user, client, "refresh_token")

    @staticmethod
    def _describe(scope: str, expires: Any, user: Any, client: Any, token_type: str) -> dict[str, Any]:
        data: dict[str, Any] = {"active": True, "scope": scope, "client_id": client.client_id, "token_type": token_type}
        if expires is not None:
            data["exp"] = int(calendar.timegm(expires.utctimetuple()))
        if user is not None:
            data["sub"] = str(user.pk)
            data["username"] = user.get_username()
        return data


class RPInitiatedLogoutView(WellFormedQueryMixin, dot_views.RPInitiatedLogoutView):
    """End-session endpoint: an unknown client_id is an error page, not a 500."""

    template_name = "jeto_identity/provider/logout_confirm.html"

    def malformed_response(self, request: HttpRequest) -> HttpResponse:
        return self.error_response(InvalidOIDCClientError("Malformed request."))

    def get_request_application(self, id_token, client_id):
        if client_id:
            application = Application.objects.filter(client_id=client_id[:255]).first()
            if application is None:
                raise InvalidOIDCClientError()
            return application
        if id_token:
            return id_token.application
        return None

    def do_logout(self, application=None, post_logout_redirect_uri=None, state=None, token_user=None):
        response = super().do_logout(application, post_logout_redirect_uri, state, token_user)
        if not post_logout_redirect_uri:
            return HttpResponseRedirect(reverse("jeto_identity:login"))
        return response
