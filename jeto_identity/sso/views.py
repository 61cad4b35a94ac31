"""Single-sign-on pages shared by every connection type: the error page and the link confirmation page.

The OpenID Connect start and callback views are in ``jeto_identity.sso.oidc.views``.
"""

from __future__ import annotations

import logging

from django.contrib.auth import authenticate
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from jeto_identity.core.redirects import safe_next_url
from jeto_identity.login import services as login_service
from jeto_identity.login.forms import PasswordStepForm
from jeto_identity.models import SSOConnection
from jeto_identity.sso import services as sso_service

logger = logging.getLogger("jeto_identity.sso")

ERROR_TEMPLATE = "jeto_identity/sso/error.html"


def error_page(request: HttpRequest, title: str, message: str, status: int) -> HttpResponse:
    return render(request, ERROR_TEMPLATE, {"title": title, "message": message}, status=status)


def unreachable_page(request: HttpRequest, connection: SSOConnection, exc: Exception) -> HttpResponse:
    """The organisation's IdP did not answer (OIDC discovery or token call, SAML metadata): a 502 page."""
    logger.warning("IdP of %s connection %s unavailable: %s", connection.protocol.upper(), connection.pk, exc)
    return error_page(
        request,
        "Your identity provider isn't responding",
        f"We couldn't reach {connection.organization.name}'s sign-in service. Try again in a few minutes; if it "
        "keeps happening, tell your administrator.",
        502,
    )


@method_decorator([never_cache, csrf_protect, sensitive_post_parameters("password")], name="dispatch")
class LinkConfirmView(View):
    """The IdP vouched for an account that is only linked once its holder confirms with their own credentials.

    The password is checked here (throttled like the password step); the second factor is the pipeline's ordinary
    MFA stage, and ``sso_service.link_confirmation_stage`` creates the link after it.
    """

    template_name = "jeto_identity/sso/link_confirm.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        error = sso_service.pop_link_error(request)
        if error:
            return error_page(request, "Your account wasn't linked", error, 403)
        link = sso_service.pending_link(request)
        if link is None:
            return HttpResponseRedirect(reverse("jeto_identity:login"))
        return self._render(request, link, PasswordStepForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        link = sso_service.pending_link(request)
        if link is None:
            return HttpResponseRedirect(reverse("jeto_identity:login"))
        if not link.user.has_usable_password():
            return self._render(request, link, PasswordStepForm(), status=403)
        form = PasswordStepForm(
            request.POST, authenticate=lambda password: authenticate(request, email=link.user.email, password=password)
        )
        if not form.is_valid() or form.user is None or form.user.pk != link.user.pk:
            return self._render(request, link, form, status=400)
        sso_service.mark_link_password_confirmed(request)
        pending = login_service.PendingLogin.load(request) or login_service.begin(request, link.user.email)
        next_stage = login_service.first_factor_passed(request, pending, form.user, "pwd")
        return HttpResponseRedirect(next_stage or safe_next_url(pending.next_url))

    def _render(
        self, request: HttpRequest, link: sso_service.PendingLink, form: PasswordStepForm, status: int = 200
    ) -> HttpResponse:
        context = {
            "form": form,
            "email": link.user.email,
            "organization": link.connection.organization,
            "has_password": link.user.has_usable_password(),
        }
        return render(request, self.template_name, context, status=status)
