"""Account security, free of HTTP views: connected applications, recent activity, "this wasn't me"."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_grant_model, get_refresh_token_model

from jeto_identity.audit import services as audit
from jeto_identity.core import sessions
from jeto_identity.models import AuditEvent, RelyingParty, User, WebAuthnDevice

logger = logging.getLogger("jeto_identity.security")

NOT_ME_SALT = "jeto_identity.security.not-me"
NOT_ME_MAX_AGE = 7 * 24 * 3600
ACTIVITY_EVENTS = (
    audit.SIGN_IN_SUCCESS,
    audit.SIGN_IN_FAILURE,
    audit.SIGN_IN_LOCKED_OUT,
    audit.MFA_ENROLLED,
    audit.MFA_RESET,
    audit.MFA_CHALLENGE_FAILED,
    audit.MFA_REMOVED,
    audit.PASSKEY_REFUSED,
    audit.PASSKEY_CLONE_WARNING,
    audit.PASSWORD_CHANGED,
    audit.PASSWORD_RESET_COMPLETED,
    audit.SESSIONS_ENDED,
    audit.APP_ACCESS_REVOKED,
    audit.REPORTED_NOT_ME,
)


# --- connected applications ------------------------------------------------------------------------------------


@dataclass
class ConnectedApp:
    application: Any
    scopes: list[str] = field(default_factory=list)
    since: datetime | None = None

    @property
    def client_id(self) -> str:
        return self.application.client_id


def connected_apps(user: User) -> list[ConnectedApp]:
    """Relying parties the user let in that still hold a live token (consent lasts as long as one does)."""
    AccessToken, RefreshToken = get_access_token_model(), get_refresh_token_model()
    apps: dict[int, ConnectedApp] = {}
    live = AccessToken.objects.filter(user=user, expires__gt=timezone.now(), application__isnull=False)
    refresh = RefreshToken.objects.filter(user=user, revoked__isnull=True, application__isnull=False)
    rows = [*live.select_related("application"), *refresh.select_related("application", "access_token")]
    for token in rows:
        application = token.application
        if application.authorization_grant_type != RelyingParty.GRANT_AUTHORIZATION_CODE:
            continue
        entry = apps.setdefault(application.pk, ConnectedApp(application=application))
        scope = getattr(token, "scope", None) or getattr(getattr(token, "access_token", None), "scope", "") or ""
        for name in scope.split():
            if name not in entry.scopes:
                entry.scopes.append(name)
        if entry.since is None or token.created < entry.since:
            entry.since = token.created
    return sorted(apps.values(), key=lambda a: a.application.name.lower())


def revoke_app(user: User, client_id: str, request: Any = None) -> bool:
    """Withdraw the user's consent to one relying party: its refresh and access tokens and pending codes go."""
    application = RelyingParty.objects.filter(client_id=str(client_id)[:255]).first()
    if application is None:
        return False
    AccessToken, RefreshToken, Grant = get_access_token_model(), get_refresh_token_model(), get_grant_model()
    with transaction.atomic():
        revoked = RefreshToken.objects.filter(user=user, application=application, revoked__isnull=True).update(
            revoked=timezone.now()
        )
        deleted, _ = AccessToken.objects.filter(user=user, application=application).delete()
        Grant.objects.filter(user=user, application=application).delete()
    if not (revoked or deleted):
        return False
    audit.record(
        audit.APP_ACCESS_REVOKED,
        request=request,
        actor=user,
        subject=user,
        organization=audit.organization_for(user),
        client_id=application.client_id,
        client_name=application.name,
    )
    return True


# --- sessions --------------------------------------------------------------------------------------------------


@lru_cache(maxsize=512)
def describe_user_agent(user_agent: str) -> str:
    """ "Chrome on Linux" from a User-Agent header (ua-parser's rules); "Unknown browser" when it says nothing."""
    if not user_agent:
        return "Unknown browser"
    from ua_parser import parse

    parsed = parse(user_agent)
    browser = parsed.user_agent.family if parsed.user_agent and parsed.user_agent.family != "Other" else ""
    system = parsed.os.family if parsed.os and parsed.os.family != "Other" else ""
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown browser"


def end_other_sessions(request: Any) -> int:
    count = sessions.end_user_sessions(request.user, keep_session_key=request.session.session_key, reason="user")
    audit.record(
        audit.SESSIONS_ENDED,
        request=request,
        subject=request.user,
        organization=audit.organization_for(request.user),
        reason="sign_out_everywhere_else",
        count=count,
    )
    return count


def end_one_session(request: Any, session_id: str) -> bool:
    ended = sessions.end_session(request.user, session_id, reason="user")
    if ended:
        audit.record(
            audit.SESSIONS_ENDED,
            request=request,
            subject=request.user,
            organization=audit.organization_for(request.user),
            reason="sign_out_one",
            count=1,
        )
    return ended


# --- activity --------------------------------------------------------------------------------------------------


def recent_activity(user: User, limit: int = 20) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(Q(subject_id=user.pk) | Q(actor_id=user.pk), event__in=ACTIVITY_EVENTS).order_by(
            "-time", "-id"
        )[:limit]
    )


def event_label(event: str) -> str:
    return audit.EVENTS.get(event, event)


# --- "this wasn't me" ------------------------------------------------------------------------------------------


def not_me_token(user: User, event: str, device_id: int | None = None) -> str:
    payload = {"u": str(user.pk), "e": event}
    if device_id is not None:
        payload["d"] = device_id
    return signing.dumps(payload, salt=NOT_ME_SALT)


def read_not_me_token(token: str) -> tuple[User, str, int | None] | None:
    try:
        payload = signing.loads(str(token)[:1000], salt=NOT_ME_SALT, max_age=NOT_ME_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict):
        return None
    user = User.objects.filter(pk=payload.get("u")).first()
    if user is None:
        return None
    device = payload.get("d")
    return user, str(payload.get("e", "")), device if isinstance(device, int) else None


def secure_account(request: Any, user: User, event: str, device_id: int | None) -> int:
    """The owner says a change wasn't them: sign out everywhere, revoke every token, and remove the passkey that
    was added (if that was the change). The password is reset next, by the owner, through their mailbox."""
    removed = 0
    if device_id is not None:
        removed, _ = WebAuthnDevice.objects.filter(user=user, pk=device_id).delete()
    ended = sessions.end_user_sessions(user, reason="reported_not_me")
    audit.record(
        audit.REPORTED_NOT_ME,
        request=request,
        actor=user,
        subject=user,
        organization=audit.organization_for(user),
        reason=event[:32],
        count=ended,
        device="webauthn" if removed else "",
    )
    logger.warning("security.not_me user=%s event=%s sessions=%s", user.pk, event, ended)
    return ended
