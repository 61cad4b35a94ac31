"""Keeps signed-in sessions inside the MFA policy, whatever URL is typed.

Install after django_otp's ``OTPMiddleware`` and Django's ``MessageMiddleware``. For a signed-in user:

* has an authenticator, but this session never passed it (signed in before enrolling elsewhere, or an old
  session): signed out and sent to sign in again, which asks for a code;
* has none, and an organisation of theirs requires MFA (switched on after they signed in), or they are staff
  opening Django admin with ``ADMIN_REQUIRES_MFA`` on: sent to enrolment; only the enrolment pages, the
  recovery-code pages and sign-out answer until they have enrolled.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.functional import LazyObject, empty
from django.utils.http import urlencode

from jeto_identity.conf import jeto_settings
from jeto_identity.mfa import services as mfa
from jeto_identity.models import WebAuthnDevice
from jeto_identity.sso import services as sso

ENROLMENT_VIEWS = frozenset(
    {
        "jeto_identity:mfa_setup",
        "jeto_identity:mfa_recovery_codes",
        "jeto_identity:mfa_recovery_download",
        "jeto_identity:logout",
    }
)
# Where a member whose organisation accepts only phishing-resistant factors is held until they add a passkey.
PASSKEY_ENROLMENT_VIEWS = frozenset(
    {
        "jeto_identity:passkey_add",
        "jeto_identity:passkey_register_options",
        "jeto_identity:passkey_register",
        "jeto_identity:mfa_reauth",
        "jeto_identity:mfa_recovery_codes",
        "jeto_identity:mfa_recovery_download",
        "jeto_identity:logout",
    }
)


class MFAPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        user = getattr(request, "user", None)
        if user is None or _certainly_anonymous(request, user) or not user.is_authenticated:
            return None
        if sso.federated_session_exempt_from_mfa(request):
            return None  # signed in through an IdP trusted for MFA (organisation's "require MFA after SSO" off)
        match = request.resolver_match
        view_name = match.view_name if match else ""
        is_verified = getattr(user, "is_verified", None)
        if callable(is_verified) and is_verified():
            # A verified session has a device (django-otp loaded it); only a non-passkey one needs a policy read.
            if isinstance(getattr(user, "otp_device", None), WebAuthnDevice):
                return None
            return self._phishing_resistant_gate(request, user, view_name)
        standing = mfa.standing(user)  # one query: the user's factors and organisations' policies
        if standing.has_mfa:
            if view_name == "jeto_identity:logout":
                return None
            next_url = request.get_full_path() if request.method == "GET" else ""
            logout(request)
            messages.info(request, "Sign in again with your authenticator app to continue.")
            return _redirect("jeto_identity:login", next_url)
        if view_name in ENROLMENT_VIEWS or view_name in PASSKEY_ENROLMENT_VIEWS:
            return None
        is_admin = bool(match and "admin" in match.namespaces)
        admin_gate = is_admin and user.is_staff and jeto_settings.ADMIN_REQUIRES_MFA
        policy = standing.policy
        if policy.phishing_resistant.required:
            messages.info(request, "Your organisation requires a passkey or security key. Add one to continue.")
            return _redirect("jeto_identity:passkey_add", request.get_full_path() if request.method == "GET" else "")
        if admin_gate or policy.mfa_required:
            messages.info(
                request,
                "Set up two-step verification to continue."
                if not admin_gate
                else "The admin site needs two-step verification. Set it up to continue.",
            )
            return _redirect("jeto_identity:mfa_setup", request.get_full_path() if request.method == "GET" else "")
        return None

    @staticmethod
    def _phishing_resistant_gate(request: HttpRequest, user, view_name: str) -> HttpResponse | None:
        """Verified with an app or recovery code: after an organisation's grace period that is not enough.

        With a passkey already registered: sign in again with it. Without: only the passkey pages answer.
        """
        policy = mfa.phishing_resistant_policy(user)
        if not policy.enforced or view_name in PASSKEY_ENROLMENT_VIEWS:
            return None
        next_url = request.get_full_path() if request.method == "GET" else ""
        if mfa.has_passkey(user):
            logout(request)
            messages.info(request, "Your organisation requires your passkey or security key. Sign in again with it.")
            return _redirect("jeto_identity:login", next_url)
        messages.info(request, "Your organisation requires a passkey or security key. Add one to continue.")
        return _redirect("jeto_identity:passkey_add", next_url)


def _certainly_anonymous(request: HttpRequest, user: object) -> bool:
    """No session cookie and ``request.user`` not loaded yet: the session-based user can only be anonymous.

    Saves loading the user (and django-otp's wrapper) on every cookie-less call: bearer API requests and token
    requests. A user that something already loaded (e.g. ``RemoteUserMiddleware``) is checked as usual.
    """
    return (
        isinstance(user, LazyObject) and user._wrapped is empty and settings.SESSION_COOKIE_NAME not in request.COOKIES
    )


def _redirect(view_name: str, next_url: str) -> HttpResponseRedirect:
    url = reverse(view_name)
    return HttpResponseRedirect(f"{url}?{urlencode({'next': next_url})}" if next_url else url)
