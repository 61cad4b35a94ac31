"""The SSO start and callback views: mozilla-django-oidc's views, with the connection taken from the URL.

Start: needs a pending sign-in from the email step; stores state -> (nonce, PKCE verifier, connection, time) in
the session through mozilla's helper and redirects to the IdP with ``login_hint``.

Callback: refuses (and burns) a state that belongs to another connection or is too old, then lets mozilla's
callback pop the state (one-time) and authenticate through our backend. On success it does *not* log in: it
passes the user to the login pipeline (``first_factor_passed(..., "fed")``), which runs the remaining stages
(MFA) and only then calls Django's ``login()``.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.crypto import constant_time_compare, get_random_string
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from mozilla_django_oidc.utils import add_state_and_verifier_and_nonce_to_session, generate_code_challenge
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from jeto_identity.conf import jeto_settings
from jeto_identity.core.crypto import DecryptionError
from jeto_identity.core.redirects import safe_next_url
from jeto_identity.login import services as login_service
from jeto_identity.models import SSOConnection
from jeto_identity.sso import http
from jeto_identity.sso import services as sso_service
from jeto_identity.sso.oidc import metadata
from jeto_identity.sso.oidc.backend import CONNECTION_ATTR, callback_url
from jeto_identity.sso.views import error_page, unreachable_page

logger = logging.getLogger("jeto_identity.sso")

STATES_KEY = "oidc_states"  # mozilla's session key


def _connection(connection_id: Any) -> SSOConnection:
    connection = sso_service.routable_connection(connection_id)
    if connection is None or connection.is_saml:
        raise Http404("No such single sign-on connection.")
    return connection


@method_decorator(never_cache, name="dispatch")
class SSOStartView(OIDCAuthenticationRequestView):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Not mozilla's __init__: it reads one IdP from settings. The connection is loaded per request in get().
        super(OIDCAuthenticationRequestView, self).__init__(*args, **kwargs)

    def get(self, request: HttpRequest, connection_id: Any) -> HttpResponse:  # type: ignore[override]
        connection = _connection(connection_id)
        pending = login_service.PendingLogin.load(request)
        if pending is None or not pending.email:
            return HttpResponseRedirect(reverse("jeto_identity:login"))
        try:
            provider = metadata.discovery(connection)
            http.check_url(provider.authorization_endpoint, "authorization endpoint")
        except http.IdPUnreachable as exc:
            return unreachable_page(request, connection, exc)
        except http.IdPError as exc:
            logger.warning("connection %s misconfigured: %s", connection.pk, exc)
            return error_page(
                request,
                "Single sign-on is misconfigured",
                f"{connection.organization.name}'s single sign-on connection isn't working. Tell your "
                "administrator (they can use “Test connection” in the admin).",
                502,
            )
        state = get_random_string(32)
        nonce = get_random_string(32)
        code_verifier = get_random_string(64)
        params = {
            "response_type": "code",
            "scope": " ".join(connection.scope_list),
            "client_id": connection.client_id,
            "redirect_uri": callback_url(request, connection),
            "state": state,
            "nonce": nonce,
            "code_challenge": generate_code_challenge(code_verifier, "S256"),
            "code_challenge_method": "S256",
            "login_hint": pending.email,
        }
        add_state_and_verifier_and_nonce_to_session(request, state, params, code_verifier)
        request.session[STATES_KEY][state]["connection"] = str(connection.public_id)
        request.session.modified = True
        separator = "&" if "?" in provider.authorization_endpoint else "?"
        return HttpResponseRedirect(f"{provider.authorization_endpoint}{separator}{urlencode(params)}")


@method_decorator(never_cache, name="dispatch")
class SSOCallbackView(OIDCAuthenticationCallbackView):
    connection: SSOConnection

    def get(self, request: HttpRequest, connection_id: Any) -> HttpResponse:  # type: ignore[override]
        self.connection = _connection(connection_id)
        try:
            refusal = self._check_state(request)
            if refusal is not None:
                return refusal
            setattr(request, CONNECTION_ATTR, self.connection)
            return super().get(request)
        except metadata.UnknownSigningKey as exc:
            logger.warning("SSO callback for connection %s rejected: %s", self.connection.pk, exc)
            return self._refused()
        except (http.IdPUnreachable, TimeoutError) as exc:
            return unreachable_page(request, self.connection, exc)
        except http.IdPError as exc:
            logger.warning("SSO callback for connection %s failed: %s", self.connection.pk, exc)
            return error_page(
                request,
                "Single sign-on failed",
                "Your identity provider didn't complete the sign-in. Start again; if it keeps happening, tell your "
                "administrator.",
                502,
            )
        except DecryptionError:
            logger.error(
                "connection %s: client secret can't be decrypted (encryption key changed?)", self.connection.pk
            )
            return error_page(
                request,
                "Single sign-on is misconfigured",
                "This single sign-on connection can't be used right now. Tell your administrator.",
                502,
            )
        except SuspiciousOperation as exc:
            logger.warning("SSO callback for connection %s rejected: %s", self.connection.pk, exc)
            return self._refused()

    def _check_state(self, request: HttpRequest) -> HttpResponse | None:
        """Refuse a callback whose state is unknown, old, or was issued for another connection (and burn it)."""
        state = request.GET.get("state", "")
        states = request.session.get(STATES_KEY)
        entry = states.get(state) if isinstance(states, dict) and state else None
        if not isinstance(entry, dict):
            # Checked before an `error` answer too: a forged error callback must not sign anyone out.
            logger.warning("SSO callback with unknown or replayed state for connection %s", self.connection.pk)
            return self._refused()
        if request.GET.get("error"):
            return None  # mozilla burns the state and we show login_failure()
        started_for = str(entry.get("connection", ""))
        too_old = time.time() - float(entry.get("added_on", 0)) > jeto_settings.SSO_STATE_MAX_AGE
        if not constant_time_compare(started_for, str(self.connection.public_id)) or too_old:
            del states[state]
            request.session.modified = True
            logger.warning("SSO callback state for another connection or expired (connection %s)", self.connection.pk)
            return self._refused()
        issuer_param = request.GET.get("iss")
        provider = metadata.discovery(self.connection)
        if (issuer_param is not None or provider.iss_parameter_supported) and issuer_param != provider.issuer:
            del states[state]
            request.session.modified = True
            logger.warning("SSO callback iss parameter mismatch for connection %s", self.connection.pk)
            return self._refused()
        return None

    def _refused(self) -> HttpResponse:
        return error_page(
            self.request,
            "Sign-in link not valid",
            "This sign-in response is expired, was already used, or belongs to another sign-in. Start again from "
            "the sign-in page.",
            400,
        )

    def login_failure(self) -> HttpResponse:
        confirmation = getattr(self.request, "jeto_sso_link_confirmation", None)
        if confirmation is not None:
            sso_service.begin_link_confirmation(self.request, self.connection, confirmation)
            return HttpResponseRedirect(reverse("jeto_identity:sso_link_confirm"))
        refusal = getattr(self.request, "jeto_sso_refusal", None)
        if refusal is not None:
            return error_page(self.request, "You can't sign in this way", refusal.message, 403)
        if self.request.GET.get("error"):
            return error_page(
                self.request,
                "Sign-in was cancelled",
                "Your identity provider didn't sign you in. Start again from the sign-in page.",
                400,
            )
        return self._refused()

    def login_success(self) -> HttpResponse:
        """Not mozilla's: no ``auth.login`` here. The pipeline finishes the sign-in after its remaining stages."""
        pending = login_service.PendingLogin.load(self.request)
        if pending is None:
            return self._refused()
        next_stage = sso_service.finish_federated_login(self.request, self.connection, self.user, pending)
        return HttpResponseRedirect(next_stage or safe_next_url(pending.next_url))
