"""Passkey pages and their JSON endpoints. Thin: parse, call ``webauthn.services``, answer.

The browser side is ``static/jeto_identity/passkeys.js`` (no inline script: the CSP allows none). Every JSON
endpoint is a POST with the CSRF token in ``X-CSRFToken``; a failed ceremony answers 400 with ``{"error": ...}``,
a throttled one 429, never a 500.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from jeto_identity.audit import services as audit
from jeto_identity.core.redirects import safe_next_url
from jeto_identity.login import services as login_service
from jeto_identity.mfa import services as mfa
from jeto_identity.mfa import stage as mfa_login
from jeto_identity.mfa.views import _require_recent_auth, _with_next
from jeto_identity.mfa.webauthn import services as passkeys
from jeto_identity.models import WebAuthnDevice
from jeto_identity.sso import services as sso
from jeto_identity.throttle import services as throttle

BODY_MAX = passkeys.CREDENTIAL_MAX_BYTES + 4096
PASSKEY_SCOPE = "passkey"


def _json_body(request: HttpRequest) -> dict[str, Any] | None:
    if len(request.body or b"") > BODY_MAX:
        return None
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _next(value: Any) -> str:
    """A safe local ``next`` path, or "" when none was given."""
    return safe_next_url(value) if isinstance(value, str) and value else ""


def _error(message: str, status: int = 400, **extra: Any) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


def _refused(error: passkeys.CeremonyError, request: HttpRequest, user, purpose: str) -> None:
    audit.record(
        audit.PASSKEY_REFUSED,
        request=request,
        actor=user,
        subject=user or "",
        organization=audit.organization_for(user) if user is not None else None,
        outcome=audit.FAILURE,
        reason=error.reason,
        method=purpose,
    )


# --- account: add, rename, remove -----------------------------------------------------------------------------


@method_decorator([never_cache, csrf_protect, login_required], name="dispatch")
class AddView(View):
    """The page with the "Add a passkey" button (also where the policy middleware holds members who need one)."""

    template_name = "jeto_identity/mfa/passkey_add.html"

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return _require_recent_auth(request) or super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        policy = mfa.phishing_resistant_policy(request.user)
        return render(
            request,
            self.template_name,
            {
                "next": _next(request.GET.get("next")),
                "policy": policy,
                "options_url": reverse("jeto_identity:passkey_register_options"),
                "finish_url": reverse("jeto_identity:passkey_register"),
            },
        )


@never_cache
@csrf_protect
@login_required
@require_POST
def register_options(request: HttpRequest) -> JsonResponse:
    if not mfa_login.recently_authenticated(request):
        return _error("Confirm your password first.", status=403, reauth=reverse("jeto_identity:mfa_reauth"))
    return JsonResponse(passkeys.registration_options(request, request.user))


@never_cache
@csrf_protect
@login_required
@require_POST
def register(request: HttpRequest) -> JsonResponse:
    if not mfa_login.recently_authenticated(request):
        return _error("Confirm your password first.", status=403, reauth=reverse("jeto_identity:mfa_reauth"))
    data = _json_body(request)
    if data is None:
        return _error("That request could not be read.")
    try:
        device = passkeys.register(request, request.user, data.get("credential"), data.get("name"))
    except passkeys.CeremonyError as exc:
        _refused(exc, request, request.user, passkeys.REGISTER)
        return _error(str(exc))
    # A session that adds a passkey is verified by it from now on (as enrolling an app verifies the session).
    otp_login(request, device)
    codes = mfa.ensure_recovery_codes(request.user)
    next_url = _next(data.get("next"))
    if codes:
        mfa_login.stash_new_codes(request, codes)
        return JsonResponse({"redirect": _with_next(reverse("jeto_identity:mfa_recovery_codes"), next_url)})
    messages.success(request, f"Passkey “{device.name}” added.")
    return JsonResponse({"redirect": next_url or reverse("jeto_identity:account_security")})


@never_cache
@csrf_protect
@login_required
@require_POST
def rename(request: HttpRequest, pk: int) -> HttpResponse:
    device = passkeys.rename(request.user, pk, request.POST.get("name", ""))
    if device is None:
        return HttpResponse("No such passkey.", status=404)
    messages.success(request, f"Passkey renamed to “{device.name}”.")
    return redirect("jeto_identity:account_security")


@method_decorator([never_cache, csrf_protect, login_required], name="dispatch")
class RemoveView(View):
    template_name = "jeto_identity/mfa/passkey_remove.html"

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.device = get_object_or_404(WebAuthnDevice, pk=kwargs["pk"], user=request.user)
        return _require_recent_auth(request) or super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        last = not mfa.has_totp(request.user) and WebAuthnDevice.objects.filter(user=request.user).count() == 1
        return render(
            request,
            self.template_name,
            {"device": self.device, "last": last, "required": mfa.mfa_required(request.user)},
        )

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        passkeys.remove(request.user, self.device.pk)
        messages.success(request, f"Passkey “{self.device.name}” removed.")
        return redirect("jeto_identity:account_security")


# --- sign-in: second factor -----------------------------------------------------------------------------------


def _pending_second_factor(request: HttpRequest):
    return mfa_login.pending_for_second_factor(request)


@never_cache
@csrf_protect
@require_POST
def second_factor_options(request: HttpRequest) -> JsonResponse:
    state = _pending_second_factor(request)
    if state is None:
        return _error("Your sign-in has expired. Start again.", status=403, restart=reverse("jeto_identity:login"))
    _, user = state
    if not mfa.has_passkey(user):
        return _error("No passkey is registered for this account.")
    return JsonResponse(passkeys.authentication_options(request, passkeys.SECOND_FACTOR, user))


@never_cache
@csrf_protect
@require_POST
def second_factor(request: HttpRequest) -> JsonResponse:
    state = _pending_second_factor(request)
    if state is None:
        return _error("Your sign-in has expired. Start again.", status=403, restart=reverse("jeto_identity:login"))
    pending, user = state
    data = _json_body(request)
    if data is None:
        return _error("That request could not be read.")
    key = str(user.pk)
    try:
        throttle.check(request, throttle.OTP, key)
    except throttle.Throttled:
        return _error("Too many attempts. Wait and try again.", status=429)
    try:
        result = passkeys.authenticate(request, passkeys.SECOND_FACTOR, data.get("credential"), user=user)
    except passkeys.CeremonyError as exc:
        throttle.failed(request, throttle.OTP, key)
        _refused(exc, request, user, passkeys.SECOND_FACTOR)
        if mfa_login.too_many_failures(mfa_login.record_failure(request, user)):
            login_service.abandon(request)
            mfa_login.clear_failures(request)
            return _error(str(exc), status=403, restart=reverse("jeto_identity:login"))
        return _error(str(exc))
    throttle.succeeded(request, throttle.OTP, key)
    next_url = pending.next_url
    url = mfa_login.finish_second_factor(request, pending, result.device, methods=result.amr)
    return JsonResponse({"redirect": url or safe_next_url(next_url)})


# --- sign-in: a passkey alone ---------------------------------------------------------------------------------


@never_cache
@csrf_protect
@require_POST
def passwordless_options(request: HttpRequest) -> JsonResponse:
    """Options for the email page's passkey button and the browser's passkey autofill (writes no session)."""
    return JsonResponse(passkeys.authentication_options(request, passkeys.PASSWORDLESS))


@never_cache
@csrf_protect
@require_POST
def passwordless(request: HttpRequest) -> JsonResponse:
    data = _json_body(request)
    if data is None:
        return _error("That request could not be read.")
    owner = passkeys.credential_user(data.get("credential"))
    key = str(owner.pk) if owner is not None else f"{PASSKEY_SCOPE}:unknown"
    try:
        throttle.check(request, throttle.OTP, key)
    except throttle.Throttled:
        return _error("Too many attempts. Wait and try again.", status=429)
    try:
        result = passkeys.authenticate(request, passkeys.PASSWORDLESS, data.get("credential"), state=data.get("state"))
    except passkeys.CeremonyError as exc:
        throttle.failed(request, throttle.OTP, key)
        _refused(exc, request, owner, passkeys.PASSWORDLESS)
        return _error(str(exc))
    user = result.user
    if not sso.password_login_allowed(user.email, user):
        # A domain that enforces single sign-on signs its members in at its IdP, passkey or not.
        return _error(sso.sso_required_message(user.email) or "Sign in through your organisation.", status=403)
    throttle.succeeded(request, throttle.OTP, key)
    next_url = _next(data.get("next"))
    pending = login_service.begin(request, user.email, next_url)
    methods = tuple(result.amr)
    url = login_service.first_factor_passed(request, pending, user, methods[0], also=methods[1:])
    if url is None and request.user.is_authenticated:
        otp_login(request, result.device)
    return JsonResponse({"redirect": url or safe_next_url(next_url)})


# --- sign-in: a member who must add a passkey before finishing ------------------------------------------------


@method_decorator([never_cache, csrf_protect], name="dispatch")
class LoginSetupView(View):
    """Enrolment during sign-in, for a member of a "phishing-resistant only" organisation with no factor yet."""

    template_name = "jeto_identity/mfa/passkey_add.html"

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        state = _pending_second_factor(request)
        if state is None:
            if request.headers.get("Accept", "").startswith("application/json") or request.method == "POST":
                return _error("Your sign-in has expired. Start again.", status=403)
            return redirect("jeto_identity:login")
        self.pending, self.user = state
        if mfa.has_mfa(self.user) or not mfa.phishing_resistant_policy(self.user).required:
            return HttpResponseRedirect(login_service.advance(request, self.pending) or safe_next_url(""))
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(
            request,
            self.template_name,
            {
                "during_login": True,
                "policy": mfa.phishing_resistant_policy(self.user),
                "options_url": reverse("jeto_identity:passkey_login_setup_options"),
                "finish_url": reverse("jeto_identity:passkey_login_setup_finish"),
            },
        )


class LoginSetupOptionsView(LoginSetupView):
    def post(self, request: HttpRequest) -> JsonResponse:
        return JsonResponse(passkeys.registration_options(request, self.user))


class LoginSetupFinishView(LoginSetupView):
    def post(self, request: HttpRequest) -> JsonResponse:
        data = _json_body(request)
        if data is None:
            return _error("That request could not be read.")
        try:
            device = passkeys.register(request, self.user, data.get("credential"), data.get("name"))
        except passkeys.CeremonyError as exc:
            _refused(exc, request, self.user, passkeys.REGISTER)
            return _error(str(exc))
        codes = mfa.ensure_recovery_codes(self.user)
        next_url = self.pending.next_url
        url = mfa_login.finish_second_factor(request, self.pending, device, methods=[passkeys.amr_for(device), "mfa"])
        if codes and request.user.is_authenticated:
            mfa_login.stash_new_codes(request, codes)
            return JsonResponse({"redirect": url or _with_next(reverse("jeto_identity:mfa_recovery_codes"), next_url)})
        return JsonResponse({"redirect": url or safe_next_url(next_url)})
