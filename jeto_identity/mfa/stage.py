"""MFA's place in the sign-in pipeline, and the session state around it.

The stage runs after the first factor. A user with a confirmed authenticator is sent to the challenge; a user
without one whose organisation requires MFA is sent to enrolment. Both pages work on the *pending* login: the
browser is still anonymous until a valid code has been given, then ``login_service.advance`` finishes the
sign-in (Django's ``login()`` rotates the session key) and django-otp records the verifying device, so
``request.user.is_verified()`` holds for the rest of the session.
"""

from __future__ import annotations

import time

from django.http import HttpRequest
from django.urls import reverse
from django_otp import login as otp_login

from jeto_identity.conf import jeto_settings
from jeto_identity.core.organizations import remember_sign_in_organizations
from jeto_identity.login import services as login_service
from jeto_identity.mfa import services as mfa
from jeto_identity.models import User
from jeto_identity.sso import services as sso

FAILURES_KEY = "jeto_mfa_failures"
ENROL_DEVICE_KEY = "jeto_mfa_enrol_device"
NEW_CODES_KEY = "jeto_mfa_new_codes"
REAUTH_KEY = "jeto_reauth_at"
STAGE_STARTED_KEY = "jeto_mfa_stage_started"
SECOND_FACTOR_AMR = ("otp", "mfa")
# RFC 8176 methods that mean a second factor (or a passkey, which is one on its own) passed in this sign-in.
SECOND_FACTOR_METHODS = frozenset({"otp", "hwk", "swk"})


def has_second_factor(pending: login_service.PendingLogin) -> bool:
    return bool(SECOND_FACTOR_METHODS.intersection(pending.amr))


def login_stage(request: HttpRequest, user: User, pending: login_service.PendingLogin) -> str | None:
    """The pipeline stage: where the user must go next, or None when no second factor is needed (or it passed).

    An organisation at the "phishing-resistant only" level sends a member without any factor to add a passkey
    (not an authenticator app); one who signed in with an app code after its grace period ends at the passkey
    page too (``MFAPolicyMiddleware`` lets nothing else through).
    """
    if has_second_factor(pending):
        return None
    # After single sign-on the IdP did the authentication (and usually its own MFA): our TOTP is asked for only
    # when the IdP's organisation turned on "require MFA after SSO" (None: not a federated sign-in).
    after_sso = sso.mfa_required_after_federation(request, pending)
    if after_sso is False:
        return None
    standing = mfa.standing(user)  # one query: the user's factors and organisations' policies
    remember_sign_in_organizations(request, user, standing.organizations)  # for the sign-in's audit event
    if standing.has_mfa:
        url = reverse("jeto_identity:mfa_challenge")
    else:
        policy = standing.policy
        if policy.phishing_resistant.required:
            url = reverse("jeto_identity:passkey_login_setup")
        elif after_sso or policy.mfa_required:
            url = reverse("jeto_identity:mfa_login_setup")
        else:
            return None
    request.session[STAGE_STARTED_KEY] = {"user_id": str(user.pk), "at": int(time.time())}
    return url


def pending_for_second_factor(request: HttpRequest) -> tuple[login_service.PendingLogin, User] | None:
    """The pending login waiting for a second factor: a first factor passed, no second factor yet."""
    pending = login_service.PendingLogin.load(request)
    if pending is None or not pending.amr or has_second_factor(pending):
        return None
    started = request.session.get(STAGE_STARTED_KEY)
    fresh = (
        isinstance(started, dict)
        and started.get("user_id") == pending.user_id
        and 0 <= time.time() - started.get("at", 0) <= int(jeto_settings.MFA_PENDING_SECONDS)
    )
    user = pending.user() if fresh else None
    if user is None:
        login_service.abandon(request)  # too old, or never sent here by the pipeline: start again
        request.session.pop(STAGE_STARTED_KEY, None)
        return None
    return pending, user


def finish_second_factor(
    request: HttpRequest,
    pending: login_service.PendingLogin,
    device,
    methods: tuple[str, ...] | list[str] = (),
    user: User | None = None,
) -> str | None:
    """Record the second factor and let the pipeline finish. Returns a further stage's URL, or None when signed in.

    ``methods``: its RFC 8176 values (default: an authenticator app or recovery code, ``otp`` + ``mfa``).
    ``user``: the pending user as this request loaded it (``pending_for_second_factor``), not read again."""
    clear_failures(request)
    request.session.pop(STAGE_STARTED_KEY, None)
    for method in methods or SECOND_FACTOR_AMR:
        login_service.add_factor(request, pending, method)
    url = login_service.advance(request, pending, user)
    if url is None and request.user.is_authenticated:
        otp_login(request, device)
    return url


def record_failure(request: HttpRequest, user: User) -> int:
    """Count failed codes for this pending login; returns the count (the view abandons at the limit)."""
    state = request.session.get(FAILURES_KEY)
    count = state["count"] if isinstance(state, dict) and state.get("user_id") == str(user.pk) else 0
    count += 1
    request.session[FAILURES_KEY] = {"user_id": str(user.pk), "count": count}
    return count


def too_many_failures(count: int) -> bool:
    return count >= int(jeto_settings.MFA_MAX_CHALLENGE_FAILURES)


def clear_failures(request: HttpRequest) -> None:
    request.session.pop(FAILURES_KEY, None)


# --- recovery codes shown once ---------------------------------------------------------------------------------


def stash_new_codes(request: HttpRequest, codes: list[str]) -> None:
    """Keep freshly issued codes in the (server-side) session just long enough to show/download/print them."""
    request.session[NEW_CODES_KEY] = {"codes": list(codes), "at": int(time.time())}


def new_codes(request: HttpRequest) -> list[str]:
    state = request.session.get(NEW_CODES_KEY)
    if not isinstance(state, dict):
        return []
    if time.time() - state.get("at", 0) > int(jeto_settings.MFA_SHOW_CODES_SECONDS):
        request.session.pop(NEW_CODES_KEY, None)
        return []
    return list(state.get("codes", []))


def forget_new_codes(request: HttpRequest) -> None:
    request.session.pop(NEW_CODES_KEY, None)


# --- recent re-authentication ----------------------------------------------------------------------------------


def mark_reauthenticated(request: HttpRequest) -> None:
    request.session[REAUTH_KEY] = int(time.time())


def recently_authenticated(request: HttpRequest) -> bool:
    """Did this session give a password (sign-in or re-auth) within ``MFA_REAUTH_SECONDS``?"""
    moments = [request.session.get(REAUTH_KEY), request.session.get(login_service.AUTH_TIME_SESSION_KEY)]
    latest = max((m for m in moments if isinstance(m, int)), default=None)
    return latest is not None and 0 <= time.time() - latest <= int(jeto_settings.MFA_REAUTH_SECONDS)
