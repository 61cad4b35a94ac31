"""SAML views: start (AuthnRequest), the assertion consumer service (ACS), and our metadata per connection.

Thin: the protocol is in ``saml.service``, the rules about who may sign in in ``sso.services`` (shared with OIDC).

The IdP POSTs its response from its own site, and a browser keeps our SameSite=Lax session cookie off such a
cross-site POST. When the cookie is missing, the ACS answers with a page that POSTs the same response to itself
from our own origin (with the cookie); nothing is checked or consumed before that.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from jeto_identity.core.crypto import DecryptionError
from jeto_identity.core.redirects import safe_next_url
from jeto_identity.login import services as login_service
from jeto_identity.models import SSOConnection
from jeto_identity.sso import http
from jeto_identity.sso import services as sso_service
from jeto_identity.sso.saml import service as saml_service
from jeto_identity.sso.saml import sp
from jeto_identity.sso.saml.policy import ResponseRejected
from jeto_identity.sso.views import error_page, unreachable_page

logger = logging.getLogger("jeto_identity.sso")


def _routable(connection_id: Any) -> SSOConnection:
    connection = sso_service.routable_connection(connection_id)
    if connection is None or not connection.is_saml:
        raise Http404("No such single sign-on connection.")
    return connection


def _misconfigured(request: HttpRequest, connection: SSOConnection, exc: Exception) -> HttpResponse:
    logger.warning("SAML connection %s misconfigured: %s", connection.pk, exc)
    return error_page(
        request,
        "Single sign-on is misconfigured",
        f"{connection.organization.name}'s single sign-on connection isn't working. Tell your administrator "
        "(they can use “Test connection” in the admin).",
        502,
    )


@method_decorator(never_cache, name="dispatch")
class SAMLStartView(View):
    def get(self, request: HttpRequest, connection_id: Any) -> HttpResponse:
        connection = _routable(connection_id)
        pending = login_service.PendingLogin.load(request)
        if pending is None or not pending.email:
            return HttpResponseRedirect(reverse("jeto_identity:login"))
        try:
            location = saml_service.start(request, connection)
        except http.IdPUnreachable as exc:
            return unreachable_page(request, connection, exc)
        except (http.IdPError, DecryptionError) as exc:
            return _misconfigured(request, connection, exc)
        return HttpResponseRedirect(location)


@method_decorator([csrf_exempt, never_cache], name="dispatch")
class SAMLAssertionConsumerView(View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, connection_id: Any) -> HttpResponse:
        connection = _routable(connection_id)
        if settings.SESSION_COOKIE_NAME not in request.COOKIES and not request.POST.get("jeto_continue"):
            return self._continue_page(request)
        try:
            consumed = saml_service.consume(request, connection)
        except ResponseRejected as exc:
            logger.warning("SAML response for connection %s refused: %s", connection.pk, exc)
            sso_service.record_rejected_response(request, connection, exc.reason)
            return error_page(
                request,
                "Sign-in response not accepted",
                "Your identity provider's answer was expired, already used, meant for another sign-in or not "
                "correctly signed. Start again from the sign-in page; if it keeps happening, tell your administrator.",
                400,
            )
        except http.IdPUnreachable as exc:
            return unreachable_page(request, connection, exc)
        except (http.IdPError, DecryptionError) as exc:
            return _misconfigured(request, connection, exc)

        if consumed.unsolicited:
            pending = login_service.begin(request, consumed.claims.get("email") or "")
        else:
            pending = login_service.PendingLogin.load(request)
            if pending is None:
                return error_page(request, "Sign-in expired", "Start again from the sign-in page.", 400)
        outcome = sso_service.federated_sign_in(request, connection, consumed.claims)
        if outcome.link_confirmation is not None:
            sso_service.begin_link_confirmation(request, connection, outcome.link_confirmation)
            return HttpResponseRedirect(reverse("jeto_identity:sso_link_confirm"))
        if outcome.refusal is not None or outcome.user is None:
            message = outcome.refusal.message if outcome.refusal else "You can't sign in this way."
            return error_page(request, "You can't sign in this way", message, 403)
        next_stage = sso_service.finish_federated_login(request, connection, outcome.user, pending)
        return HttpResponseRedirect(next_stage or safe_next_url(pending.next_url))

    def _continue_page(self, request: HttpRequest) -> HttpResponse:
        context = {
            "action": request.path,
            "saml_response": request.POST.get("SAMLResponse", "")[: saml_service.MAX_RESPONSE_CHARS],
            "relay_state": request.POST.get("RelayState", "")[:1000],
        }
        return render(request, "jeto_identity/sso/saml/continue.html", context)


@method_decorator(never_cache, name="dispatch")
class SAMLMetadataView(View):
    """Our SP metadata for one connection (public: it holds no secret). ``?download=1`` saves it as a file."""

    def get(self, request: HttpRequest, connection_id: Any) -> HttpResponse:
        connection = SSOConnection.objects.filter(public_id=connection_id, protocol="saml").first()
        if connection is None or not connection.saml_sp_certificate:
            raise Http404("No such SAML connection.")
        try:
            xml = sp.sp_metadata(request, connection)
        except (http.IdPError, DecryptionError) as exc:
            return _misconfigured(request, connection, exc)
        response = HttpResponse(xml, content_type="application/samlmetadata+xml; charset=utf-8")
        if request.GET.get("download"):
            response["Content-Disposition"] = f'attachment; filename="jeto-sp-{connection.public_id}.xml"'
        return response
