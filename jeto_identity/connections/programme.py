"""The API Integrations programme: an organisation applies; platform admins approve, decline or suspend.

Approval switches application connections on in the organisation's plan (``orgadmin.plans``); declining or
suspending switches them off, which revokes outstanding tokens at once (the plan's receivers) and makes the token
endpoint refuse the organisation's clients. Every step is audited and e-mailed to the applicant.
"""

from __future__ import annotations

import hashlib

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from jeto_identity.audit import services as audit
from jeto_identity.conf import jeto_settings
from jeto_identity.core import access, mail
from jeto_identity.models import Organization, ProgrammeApplication, User
from jeto_identity.orgadmin import plans

Status = ProgrammeApplication.Status
SUBJECT = "jeto_identity/connections/email/programme_subject.txt"
BODY = "jeto_identity/connections/email/programme.txt"

APPROVE, DECLINE, SUSPEND = "approve", "decline", "suspend"
# decision -> (statuses it applies to, the status it sets, whether a reason is required)
DECISIONS = {
    APPROVE: ((Status.PENDING, Status.SUSPENDED), Status.APPROVED, False),
    DECLINE: ((Status.PENDING,), Status.DECLINED, True),
    SUSPEND: ((Status.APPROVED,), Status.SUSPENDED, True),
}


def terms_text() -> str:
    return render_to_string(jeto_settings.API_PROGRAMME_TERMS_TEMPLATE)


def terms_version() -> str:
    """A digest of the terms' text: the version an applicant accepted is stored with the application."""
    return hashlib.sha256(terms_text().encode()).hexdigest()[:16]


def open_application(organization: Organization) -> ProgrammeApplication | None:
    return ProgrammeApplication.objects.filter(organization=organization, status__in=ProgrammeApplication.OPEN).first()


def apply(
    organization: Organization,
    user: User,
    *,
    purpose: str,
    contact_name: str,
    contact_email: str,
    expected_usage: str,
    accepted_terms_version: str,
) -> ProgrammeApplication:
    """An org admin applies. ``accepted_terms_version`` must be the current terms' version (they saw these terms)."""
    if not (user.is_superuser or organization.pk in access.administered_org_ids(user)):
        raise PermissionDenied
    if accepted_terms_version != terms_version():
        raise ValidationError("Accept the programme terms (they changed since the page was opened: read them again).")
    if not all(s.strip() for s in (purpose, contact_name, contact_email, expected_usage)):
        raise ValidationError("Purpose, contact and expected usage are all required.")
    try:
        with transaction.atomic():
            application = ProgrammeApplication.objects.create(
                organization=organization,
                purpose=purpose.strip(),
                contact_name=contact_name.strip(),
                contact_email=contact_email.strip(),
                expected_usage=expected_usage.strip(),
                terms_version=accepted_terms_version,
                terms_accepted_at=timezone.now(),
                applied_by=user,
            )
            audit.record(
                audit.PROGRAMME_APPLIED,
                actor=user,
                organization=organization,
                subject=organization.name,
                terms_version=accepted_terms_version,
            )
    except IntegrityError as exc:
        raise ValidationError(f"{organization.name} already has an application in the programme.") from exc
    _notify(application, "received")
    for recipient in plans.platform_admin_emails():
        mail.send_mail(SUBJECT, BODY, _context(application, "waiting for a decision"), None, recipient)
    return application


def decide(application: ProgrammeApplication, actor: User, decision: str, reason: str = "") -> ProgrammeApplication:
    """A platform admin approves, declines or suspends (approving a suspended application reinstates it)."""
    if not actor.is_superuser:
        raise PermissionDenied
    if decision not in DECISIONS:
        raise ValidationError(f"Unknown decision {decision!r}.")
    allowed_from, new_status, needs_reason = DECISIONS[decision]
    reason = (reason or "").strip()
    if needs_reason and not reason:
        raise ValidationError("Give the applicant a reason.")
    with transaction.atomic():
        row = ProgrammeApplication.objects.select_for_update().select_related("organization").get(pk=application.pk)
        if row.status not in allowed_from:
            raise ValidationError(f"An application that is {row.get_status_display().lower()} can't be {decision}d.")
        old = row.status
        row.status, row.decided_by, row.decided_at, row.decision_reason = new_status, actor, timezone.now(), reason
        row.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
        # The plan follows the decision (audited as plan.changed; off revokes the organisation's tokens).
        plans.set_feature(row.organization, plans.API_CLIENTS, new_status == Status.APPROVED)
        audit.record(
            audit.PROGRAMME_DECIDED,
            actor=actor,
            organization=row.organization,
            subject=row.organization.name,
            status=new_status,
            changes={"status": [old, new_status]},
            reason=reason,
        )
    _notify(row, new_status)
    return row


def _context(application: ProgrammeApplication, status: str) -> dict:
    return {"organization": application.organization.name, "status": status, "reason": application.decision_reason}


def _notify(application: ProgrammeApplication, status: str) -> None:
    recipients = {application.contact_email.lower()}
    if application.applied_by_id and application.applied_by.email:
        recipients.add(application.applied_by.email.lower())
    for recipient in sorted(recipients):
        mail.send_mail(SUBJECT, BODY, _context(application, status), None, recipient)
