"""The audit log: ``record()`` writes one ``AuditEvent`` row and one JSON log line per security event.

Call it from services (not views) at the point where the event is certain: after the transaction that made the
change, or inside it so that both commit or neither does. Details are filtered through ``SAFE_DETAIL_KEYS``
and scrubbed of anything that looks like a secret, so a careless caller cannot leak a password or token into
the log.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from django.http import HttpRequest

from jeto_identity.core.organizations import verified_domain_owner
from jeto_identity.core.users import normalize_email
from jeto_identity.models import AuditEvent, Membership, Organization, User

logger = logging.getLogger("jeto_identity.audit")

# -- The catalogue. Event names are stable strings: dashboards and SIEM rules match on them. ----------------
SIGN_IN_SUCCESS = "sign_in.success"
SIGN_IN_FAILURE = "sign_in.failure"
SIGN_IN_LOCKED_OUT = "sign_in.locked_out"
SIGN_OUT = "sign_out"
LOCKOUT_CLEARED = "lockout.cleared"
MFA_ENROLLED = "mfa.enrolled"
MFA_CHALLENGE_FAILED = "mfa.challenge_failed"
MFA_RESET = "mfa.reset"
SSO_SIGN_IN = "sso.sign_in"
SSO_LINK = "sso.link"
PASSWORD_RESET_REQUESTED = "password_reset.requested"
PASSWORD_RESET_COMPLETED = "password_reset.completed"
PASSWORD_CHANGED = "password.changed"
API_CLIENT_CREATED = "api_client.created"
API_CLIENT_ROTATED = "api_client.rotated"
API_CLIENT_REVOKED = "api_client.revoked"
POLICY_CHANGED = "organization.policy_changed"
MEMBER_ADDED = "member.added"
MEMBER_CHANGED = "member.changed"
MEMBER_REMOVED = "member.removed"
THROTTLED = "throttle.locked_out"
DOMAIN_ADDED = "domain.added"
DOMAIN_CHANGED = "domain.changed"
DOMAIN_REMOVED = "domain.removed"
SSO_CONNECTION_CHANGED = "sso.connection_changed"
SSO_LINKS_RESET = "sso.links_reset"
SSO_LINK_CONFIRMATION = "sso.link_confirmation"
PLAN_CHANGED = "plan.changed"
PLAN_ACTIVATION_REQUESTED = "plan.activation_requested"
PROGRAMME_APPLIED = "programme.applied"
PROGRAMME_DECIDED = "programme.decided"
INVITATION_SENT = "invitation.sent"
INVITATION_REVOKED = "invitation.revoked"
INVITATION_ACCEPTED = "invitation.accepted"
DOMAIN_VERIFICATION = "domain.verification"
SCIM_TOKEN_ISSUED = "scim.token_issued"
SCIM_TOKEN_REVOKED = "scim.token_revoked"
SCIM_USER_CREATED = "scim.user_created"
SCIM_USER_CHANGED = "scim.user_changed"
SCIM_USER_DEACTIVATED = "scim.user_deactivated"
SCIM_USER_DELETED = "scim.user_deleted"
SCIM_GROUP_CHANGED = "scim.group_changed"
SCIM_REFUSED = "scim.refused"
PASSKEY_REFUSED = "mfa.passkey_refused"
PASSKEY_CLONE_WARNING = "mfa.passkey_clone_warning"
MFA_REMOVED = "mfa.removed"
SESSIONS_ENDED = "session.ended"
APP_ACCESS_REVOKED = "consent.revoked"
REPORTED_NOT_ME = "security.not_me"

EVENTS: dict[str, str] = {
    SIGN_IN_SUCCESS: "Signed in",
    SIGN_IN_FAILURE: "Sign-in failed",
    SIGN_IN_LOCKED_OUT: "Sign-in locked out",
    SIGN_OUT: "Signed out",
    LOCKOUT_CLEARED: "Lockout cleared",
    MFA_ENROLLED: "MFA enrolled",
    MFA_CHALLENGE_FAILED: "MFA challenge failed",
    MFA_RESET: "MFA reset",
    SSO_SIGN_IN: "SSO sign-in",
    SSO_LINK: "SSO account linked",
    PASSWORD_RESET_REQUESTED: "Password reset requested",
    PASSWORD_RESET_COMPLETED: "Password reset completed",
    PASSWORD_CHANGED: "Password changed",
    API_CLIENT_CREATED: "API client created",
    API_CLIENT_ROTATED: "API client secret rotated",
    API_CLIENT_REVOKED: "API client revoked",
    POLICY_CHANGED: "Organisation policy changed",
    MEMBER_ADDED: "Member added",
    MEMBER_CHANGED: "Member changed",
    MEMBER_REMOVED: "Member removed",
    THROTTLED: "Throttled (OTP / client secret)",
    DOMAIN_ADDED: "Domain added",
    DOMAIN_CHANGED: "Domain changed",
    DOMAIN_REMOVED: "Domain removed",
    SSO_CONNECTION_CHANGED: "SSO connection changed",
    SSO_LINKS_RESET: "SSO links reset",
    SSO_LINK_CONFIRMATION: "SSO link awaiting confirmation",
    PLAN_CHANGED: "Plan changed",
    PLAN_ACTIVATION_REQUESTED: "Feature activation requested",
    PROGRAMME_APPLIED: "Applied to the API Integrations programme",
    PROGRAMME_DECIDED: "API Integrations programme decision",
    INVITATION_SENT: "Invitation sent",
    INVITATION_REVOKED: "Invitation revoked",
    INVITATION_ACCEPTED: "Invitation accepted",
    DOMAIN_VERIFICATION: "Domain verification attempted",
    SCIM_TOKEN_ISSUED: "SCIM token issued",
    SCIM_TOKEN_REVOKED: "SCIM token revoked",
    SCIM_USER_CREATED: "User provisioned via SCIM",
    SCIM_USER_CHANGED: "User changed via SCIM",
    SCIM_USER_DEACTIVATED: "User deactivated via SCIM",
    SCIM_USER_DELETED: "User deprovisioned via SCIM",
    SCIM_GROUP_CHANGED: "Group changed via SCIM",
    SCIM_REFUSED: "SCIM request refused",
    PASSKEY_REFUSED: "Passkey refused",
    PASSKEY_CLONE_WARNING: "Passkey blocked (counter went backwards)",
    MFA_REMOVED: "Second factor removed",
    SESSIONS_ENDED: "Sessions ended",
    APP_ACCESS_REVOKED: "Application access revoked",
    REPORTED_NOT_ME: "Reported \"this wasn't me\"",
}

SUCCESS, FAILURE, DENIED = "success", "failure", "denied"

# Only these detail keys are stored; anything else a caller passes is dropped (and named in `dropped`).
SAFE_DETAIL_KEYS = frozenset(
    {
        "amr",
        "method",
        "reason",
        "role",
        "old_role",
        "changes",
        "client_id",
        "client_name",
        "scope",
        "scopes",
        "grant_type",
        "device",
        "connection",
        "idp",
        "issuer",
        "path",
        "failures",
        "locked_until",
        "cleared",
        "via",
        "count",
        "domain",
        "verified",
        "fields",
        "feature",
        "note",
        "status",
        "terms_version",
        "result",
        "resent",
        "sessions",
    }
)
_SECRET_MARKERS = ("password", "secret", "token", "code", "otp", "key", "credential", "authorization", "cookie")
USER_AGENT_MAX = 256


_CONTROL = dict.fromkeys(range(0x20)) | {0x7F: None}


def clean_text(value: Any, limit: int) -> str:
    """Printable, bounded text: control characters (NUL breaks PostgreSQL, CR/LF forge log lines) removed."""
    return str(value or "").translate(_CONTROL)[:limit]


def _scrub(value: Any, depth: int = 0) -> Any:
    """JSON-safe copy with secret-looking keys removed and strings bounded."""
    if depth > 3:
        return None
    if isinstance(value, Mapping):
        return {
            clean_text(k, 64): _scrub(v, depth + 1)
            for k, v in value.items()
            if not any(marker in str(k).lower() for marker in _SECRET_MARKERS)
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [_scrub(v, depth + 1) for v in list(value)[:50]]
    if value is None or isinstance(value, bool | int | float):
        return value
    return clean_text(value, 500)


def safe_details(details: Mapping[str, Any]) -> dict[str, Any]:
    kept = {k: _scrub(v) for k, v in details.items() if k in SAFE_DETAIL_KEYS}
    dropped = sorted(k for k in details if k not in SAFE_DETAIL_KEYS)
    if dropped:
        kept["dropped"] = [clean_text(k, 64) for k in dropped]
    return kept


def _person(user: Any) -> tuple[uuid.UUID | None, str]:
    if user is None or not getattr(user, "is_authenticated", False):
        return None, ""
    return getattr(user, "pk", None), clean_text(getattr(user, "email", "") or str(user), 254)


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def organization_for(
    user: User | None = None, email: str = "", *, organizations: Sequence[Organization] | None = None
) -> Organization | None:
    """The organisation a person's event belongs to: their email's verified domain, else their only membership.

    ``organizations``: every organisation the user belongs to, when this request has just read them (the sign-in
    stage's ``mfa.standing``), so they are not read again."""
    email = normalize_email(email or getattr(user, "email", "") or "")
    if "@" in email:
        owner = verified_domain_owner(email.rsplit("@", 1)[1])
        if owner is not None:
            return owner
    if organizations is not None:
        return organizations[0] if len(organizations) == 1 else None
    if user is not None and getattr(user, "pk", None):
        # The organisation comes with the membership (one query); a second membership means "not one".
        memberships = list(Membership.objects.filter(user_id=user.pk).select_related("organization").order_by()[:2])
        if len(memberships) == 1:
            return memberships[0].organization
    return None


def record(
    event: str,
    *,
    request: HttpRequest | None = None,
    actor: Any = None,
    organization: Organization | None = None,
    subject: Any = None,
    outcome: str = SUCCESS,
    **details: Any,
) -> AuditEvent:
    """Write one audit event and its JSON log line.

    ``actor`` defaults to the request's signed-in user. ``subject`` is a ``User`` or a short text (an email that
    matched no account, a client ID). ``request`` (or the current request, see ``middleware``) gives the
    source address and user agent.
    """
    from jeto_identity.core.middleware import current_request
    from jeto_identity.core.net import client_ip

    request = request if request is not None else current_request()
    if actor is None and request is not None:
        actor = getattr(request, "user", None)
    actor_id, actor_label = _person(actor)
    if isinstance(subject, User):
        subject_id, subject_label = subject.pk, subject.email
    else:
        subject_id, subject_label = None, clean_text(subject, 254)
    ip = _valid_ip(client_ip(request)) if request is not None else None
    user_agent = clean_text(request.META.get("HTTP_USER_AGENT", ""), USER_AGENT_MAX) if request is not None else ""
    row = AuditEvent.objects.create(
        event=clean_text(event, 64),
        outcome=outcome,
        actor_id=actor_id,
        actor=actor_label,
        organization_id=organization.pk if organization is not None else None,
        organization=clean_text(organization.name, 200) if organization is not None else "",
        subject_id=subject_id,
        subject=subject_label,
        ip_address=ip or None,
        user_agent=user_agent,
        details=safe_details(details),
    )
    logger.info(json.dumps(as_log_record(row), sort_keys=True, default=str))
    return row


def as_log_record(row: AuditEvent) -> dict[str, Any]:
    return {
        "type": "audit",
        "id": row.pk,
        "time": row.time.isoformat(),
        "event": row.event,
        "outcome": row.outcome,
        "actor_id": str(row.actor_id) if row.actor_id else None,
        "actor": row.actor or None,
        "organization_id": row.organization_id,
        "organization": row.organization or None,
        "subject_id": str(row.subject_id) if row.subject_id else None,
        "subject": row.subject or None,
        "ip": row.ip_address,
        "user_agent": row.user_agent or None,
        "details": row.details,
    }


def record_password_reset_requested(request: HttpRequest, email: str) -> AuditEvent:
    """The page says the same for every address; the log says whether an account matched (admins only)."""
    email = normalize_email(email)[:254]
    user = User.objects.filter(email=email).first()
    return record(
        PASSWORD_RESET_REQUESTED,
        request=request,
        subject=user or email,
        organization=organization_for(user, email),
        reason="account" if user else "unknown_email",
    )
