"""Email-first sign-in pages. Thin: parse, call services.login, render or redirect."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import urlencode
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from jeto_identity.core.redirects import safe_next_url
from jeto_identity.login import services as login_service
from jeto_identity.login.forms import EmailStepForm, PasswordStepForm
from jeto_identity.sso import services as sso_service


def _finish(request: HttpRequest, pending: login_service.PendingLogin, stage_url: str | None) -> HttpResponse:
    if stage_url:
        return HttpResponseRedirect(stage_url)
    return HttpResponseRedirect(safe_next_url(pending.next_url))


@method_decorator([never_cache, csrf_protect], name="dispatch")
class EmailStepView(View):
    template_name = "jeto_identity/login/email.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        next_url = safe_next_url(request.GET.get("next"), default="")
        if request.user.is_authenticated and request.GET.get("prompt") != "login":
            return HttpResponseRedirect(safe_next_url(next_url))
        initial = {"email": request.GET.get("login_hint", "")[:254]}
        return render(request, self.template_name, {"form": EmailStepForm(initial=initial), "next": next_url})

    def post(self, request: HttpRequest) -> HttpResponse:
        next_url = safe_next_url(request.POST.get("next"), default="")
        form = EmailStepForm(request.POST)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form, "next": next_url}, status=400)
        pending = login_service.begin(request, form.cleaned_data["email"], next_url)
        return HttpResponseRedirect(
            login_service.route_email(request, pending) or reverse("jeto_identity:login_password")
        )


@method_decorator([never_cache, csrf_protect, sensitive_post_parameters("password")], name="dispatch")
class PasswordStepView(View):
    template_name = "jeto_identity/login/password.html"

    def _pending(self, request: HttpRequest) -> login_service.PendingLogin | None:
        pending = login_service.PendingLogin.load(request)
        return pending if pending and pending.email else None

    def get(self, request: HttpRequest) -> HttpResponse:
        pending = self._pending(request)
        if pending is None:
            return redirect("jeto_identity:login")
        return render(request, self.template_name, self._context(PasswordStepForm(), pending))

    def _context(self, form: PasswordStepForm, pending: login_service.PendingLogin) -> dict:
        context = {"form": form, "email": pending.email}
        if sso_service.enforcing_organization(pending.email) is not None:
            connection = sso_service.connection_for_email(pending.email)
            context["sso_notice"] = sso_service.sso_required_message(pending.email)
            context["sso_url"] = sso_service.start_url(connection) if connection else ""
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        pending = self._pending(request)
        if pending is None:
            return redirect("jeto_identity:login")
        form = PasswordStepForm(
            request.POST, authenticate=lambda password: login_service.check_password(request, pending, password)
        )
        valid = form.is_valid()
        if not sso_service.password_login_allowed(pending.email, form.user if valid else None):
            # Same answer whatever the password: the domain decides (superusers excepted, see break-glass).
            # The page's SSO notice (see _context) carries the message and the link to the IdP.
            return render(request, self.template_name, self._context(PasswordStepForm(), pending), status=403)
        if not valid:
            return render(request, self.template_name, self._context(form, pending), status=400)
        return _finish(request, pending, login_service.first_factor_passed(request, pending, form.user, "pwd"))


@method_decorator([never_cache, csrf_protect], name="dispatch")
class LogoutView(View):
    template_name = "jeto_identity/login/logout.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, self.template_name)

    def post(self, request: HttpRequest) -> HttpResponse:
        logout(request)
        messages.info(request, "You are signed out.")
        return redirect("jeto_identity:login")


class RestartView(View):
    """ "Not you?" link: forget the email typed at step 1."""

    def get(self, request: HttpRequest) -> HttpResponse:
        login_service.abandon(request)
        return redirect("jeto_identity:login")


class BreakGlassView(View):
    """Platform superusers' way in when their domain enforces SSO or its IdP is down (docs/sso-admins.md).

    It only skips the redirect to the IdP; the password step still refuses everyone but superusers for an
    SSO-enforced domain, so this page grants nothing to anyone else.
    """

    def get(self, request: HttpRequest) -> HttpResponse:
        request.session[sso_service.BREAK_GLASS_SESSION_KEY] = True
        messages.warning(
            request, "Break-glass sign-in: single sign-on is skipped. Only platform administrators can get in this way."
        )
        return redirect("jeto_identity:login")


def admin_login(request: HttpRequest) -> HttpResponse:
    """Django admin's sign-in, sent through the same pipeline as everyone else (second factor included).

    Mount it before the admin: ``path("admin/login/", admin_login)``.
    """
    next_url = safe_next_url(request.GET.get("next"), default=reverse("admin:index"))
    return HttpResponseRedirect(f"{reverse('jeto_identity:login')}?{urlencode({'next': next_url})}")
