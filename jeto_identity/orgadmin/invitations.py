"""Invitations: how a person joins an organisation. Every address is invited the same way.

An org admin invites an email with a role (one at a time or by CSV). The address gets a link to
``/invitations/<token>/``: the token is ``django.core.signing`` over the invitation's public ID and a random secret;
the row keeps only the secret's SHA-256. A link is single use, expires (``INVITATION_MAX_AGE``), can be revoked, and
resending replaces its secret (an older link stops working).

Accepting:
- no account for the address: the person sets a password on the page (the link proves the address), and joins;
- an account exists: its holder signs in with their own credentials (and second factor), then joins;
- the address's domain routes to the organisation's IdP (or the organisation enforces SSO): they sign in through
  the IdP, which may create the account even without just-in-time provisioning (``claim_for_sso``).

Nothing is created when the invitation is sent, so neither the answer nor the member list tells the inviting admin
whether the address had an account. An invitation never changes an existing account, never makes a superuser a
member, and is accepted only by the account whose email it names.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from jeto_identity.audit import services as audit
from jeto_identity.conf import jeto_settings
from jeto_identity.core import access, mail
from jeto_identity.core.users import normalize_email
from jeto_identity.models import Invitation, Membership, Organization, OrganizationDomain, Role, User

SALT = "jeto_identity.orgadmin.invitation.v2"
INVITABLE_ROLES = (Role.MEMBER, Role.ADMIN, Role.OWNER)
SUBJECT_TEMPLATE = "jeto_identity/orgadmin/email/invitation_subject.txt"
BODY_TEMPLATE = "jeto_identity/orgadmin/email/invitation.txt"


class InvalidInvitation(Exception):
    """The link is malformed, forged, expired, revoked, used, or no longer grants anything."""


class Throttled(PermissionDenied):
    pass


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def max_age() -> int:
    return int(jeto_settings.INVITATION_MAX_AGE)


# ---- sending ------------------------------------------------------------------------------------------------


def check_may_invite(inviter: User, organization: Organization, email: str, role: str) -> str:
    """The normalised address, if ``inviter`` may invite it to ``organization`` as ``role``; else ValidationError."""
    if role not in INVITABLE_ROLES:
        raise ValidationError(f"Unknown role {role!r}.")
    if not (
        inviter.is_superuser
        or (access.is_org_admin(inviter) and organization.pk in access.administered_org_ids(inviter))
    ):
        raise PermissionDenied
    if role == Role.OWNER and not (inviter.is_superuser or organization.pk in access.owned_org_ids(inviter)):
        raise ValidationError("Only an owner of this organisation can invite an owner.")
    email = normalize_email(email or "")
    if "@" not in email or len(email) > 254:
        raise ValidationError("Enter a valid email address.")
    from django.core.validators import validate_email

    validate_email(email)
    domain = email.rsplit("@", 1)[1]
    if not inviter.is_superuser and (
        OrganizationDomain.objects.filter(domain=domain, verified=True)
        .exclude(organization_id__in=access.administered_org_ids(inviter))
        .exists()
    ):
        raise ValidationError(
            f"{domain} belongs to another organisation (it verified that domain): only that organisation's admins "
            "can invite its people."
        )
    return email


def _throttle(inviter: User, how_many: int = 1) -> None:
    limit = int(jeto_settings.INVITATIONS_PER_HOUR)
    since = timezone.now() - timedelta(hours=1)
    sent = audit.AuditEvent.objects.filter(event=audit.INVITATION_SENT, actor_id=inviter.pk, time__gte=since).count()
    if sent + how_many > limit:
        raise Throttled(f"You can send {limit} invitations an hour; try again later.")


@dataclass(frozen=True)
class Sent:
    invitation: Invitation
    resent: bool


def invite(
    request: HttpRequest | None,
    organization: Organization,
    email: str,
    role: str,
    inviter: User,
    *,
    throttle: bool = True,
) -> Sent:
    """Invite ``email`` to ``organization`` as ``role`` (or resend its open invitation, with this role)."""
    email = check_may_invite(inviter, organization, email, role)
    if throttle:
        _throttle(inviter)
    with transaction.atomic():
        existing = (
            Invitation.objects.select_for_update()
            .filter(organization=organization, email=email, accepted_at__isnull=True, revoked_at__isnull=True)
            .first()
        )
        invitation = existing or Invitation(organization=organization, email=email, invited_by=inviter)
        invitation.role = role
        secret = _renew(invitation)
        try:
            with transaction.atomic():
                invitation.save()
        except IntegrityError as exc:  # a concurrent invitation of the same address: theirs stands
            raise ValidationError(f"{email} was invited a moment ago; resend it from the invitations list.") from exc
        _record_sent(invitation, inviter, resent=existing is not None)
    _mail(request, invitation, secret, inviter)
    return Sent(invitation, resent=existing is not None)


def resend(request: HttpRequest | None, invitation: Invitation, actor: User) -> Invitation:
    if invitation.status in ("accepted", "revoked"):
        raise ValidationError("Only an open invitation can be resent.")
    _throttle(actor)
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        secret = _renew(invitation)
        invitation.save()
        _record_sent(invitation, actor, resent=True)
    _mail(request, invitation, secret, actor)
    return invitation


def revoke(invitation: Invitation, actor: User) -> bool:
    with transaction.atomic():
        updated = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if updated:
            audit.record(
                audit.INVITATION_REVOKED, actor=actor, organization=invitation.organization, subject=invitation.email
            )
    return bool(updated)


def _renew(invitation: Invitation) -> str:
    secret = secrets.token_urlsafe(32)
    invitation.secret_hash = _digest(secret)
    invitation.expires_at = timezone.now() + timedelta(seconds=max_age())
    invitation.last_sent_at = timezone.now()
    invitation.send_count = (invitation.send_count or 0) + 1
    return secret


def _record_sent(invitation: Invitation, actor: User, *, resent: bool) -> None:
    audit.record(
        audit.INVITATION_SENT,
        actor=actor,
        organization=invitation.organization,
        subject=invitation.email,
        role=invitation.role,
        resent=resent,
    )


def make_token(invitation: Invitation, secret: str) -> str:
    return signing.dumps({"i": str(invitation.public_id), "s": secret}, salt=SALT, compress=True)


def _mail(request: HttpRequest | None, invitation: Invitation, secret: str, inviter: User) -> None:
    path = reverse("jeto_identity:invitation", args=[make_token(invitation, secret)])
    context = {
        "email": invitation.email,
        "organization": invitation.organization.name,
        "role": Role(invitation.role).label,
        "inviter": inviter.email,
        "url": request.build_absolute_uri(path) if request is not None else path,
        "hours": max_age() // 3600,
    }
    # Sent to every address alike (off the request path): the answer and its timing say nothing about accounts.
    mail.send_mail(SUBJECT_TEMPLATE, BODY_TEMPLATE, context, None, invitation.email)


# ---- opening and accepting ----------------------------------------------------------------------------------


def read_token(token: str) -> Invitation:
    """The open invitation a link names; ``InvalidInvitation`` for a forged, expired, used or revoked one."""
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age())
        public_id, secret = str(data["i"]), str(data["s"])
        invitation = Invitation.objects.select_related("organization").filter(public_id=public_id).first()
    except (signing.BadSignature, KeyError, TypeError, ValueError, ValidationError) as exc:
        raise InvalidInvitation from exc
    if invitation is None or not constant_time_compare(_digest(secret), invitation.secret_hash):
        raise InvalidInvitation
    if invitation.status != "pending" or not inviter_may_still_grant(invitation):
        raise InvalidInvitation
    return invitation


def inviter_may_still_grant(invitation: Invitation) -> bool:
    """The admin who invited still runs the organisation (and owns it, for the owner role)."""
    inviter = User.objects.filter(pk=invitation.invited_by_id, is_active=True).first()
    if inviter is None:
        return False
    if inviter.is_superuser:
        return True
    if not (inviter.is_staff and invitation.organization_id in access.administered_org_ids(inviter)):
        return False
    return invitation.role != Role.OWNER or invitation.organization_id in access.owned_org_ids(inviter)


def account_exists(invitation: Invitation) -> bool:
    """For the invitee's page only (the link went to that mailbox): sign in, or set a password?"""
    return User.objects.filter(email=invitation.email).exists()


def sso_connection(invitation: Invitation):
    """The IdP the invited address signs in through, if its domain routes to one."""
    from jeto_identity.sso import services as sso

    return sso.connection_for_email(invitation.email)


def sso_required(invitation: Invitation) -> bool:
    from jeto_identity.sso import services as sso

    return sso_connection(invitation) is not None or sso.enforcing_organization(invitation.email) is not None


def is_for(user: User, invitation: Invitation) -> bool:
    return normalize_email(user.email) == invitation.email


def accept(user: User, invitation: Invitation) -> bool:
    """The invited account, signed in, joins. False if it already was a member (its role is kept)."""
    if not is_for(user, invitation):
        raise PermissionDenied("This invitation is for another address.")
    if user.is_superuser:
        raise PermissionDenied("Platform administrators don't join organisations by invitation.")
    with transaction.atomic():
        if not _claim(invitation, user):
            raise InvalidInvitation
        _, created = Membership.objects.get_or_create(
            user=user, organization=invitation.organization, defaults={"role": invitation.role}
        )
        if not user.email_verified:  # the link reached this mailbox
            User.objects.filter(pk=user.pk).update(email_verified=True)
    return created


def accept_new_account(invitation: Invitation, *, password: str, first_name: str = "", last_name: str = "") -> User:
    """No account has the address: create it with ``password`` (validated by the caller), proven, as a member."""
    if sso_required(invitation):
        raise PermissionDenied("This organisation signs its people in through its identity provider.")
    with transaction.atomic():
        if User.objects.filter(email=invitation.email).exists():
            raise PermissionDenied("An account already exists for this address: sign in to accept.")
        user = User.objects.create_user(
            email=invitation.email, password=password, first_name=first_name[:150], last_name=last_name[:150]
        )
        user.email_verified = True
        user.save(update_fields=["email_verified"])
        if not _claim(invitation, user):
            raise InvalidInvitation
        Membership.objects.create(user=user, organization=invitation.organization, role=invitation.role)
    return user


def _claim(invitation: Invitation, user: User) -> bool:
    """Mark the invitation used by ``user``, once (a second tab or a replay finds it taken)."""
    claimed = Invitation.objects.filter(
        pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).update(accepted_at=timezone.now(), accepted_by=user)
    if claimed:
        audit.record(
            audit.INVITATION_ACCEPTED,
            actor=user,
            organization=invitation.organization,
            subject=user,
            role=invitation.role,
        )
    return bool(claimed)


def claim_for_sso(organization_id: int, user: User) -> str | None:
    """For single sign-on: the IdP of ``organization_id`` proved ``user``'s address. If that address has an open
    invitation there, it is accepted now and its role returned (the membership is created by the caller)."""
    invitation = (
        Invitation.objects.pending()
        .select_related("organization")
        .filter(organization_id=organization_id, email=normalize_email(user.email))
        .first()
    )
    if invitation is None or user.is_superuser or not inviter_may_still_grant(invitation):
        return None
    return invitation.role if _claim(invitation, user) else None


def has_open_invitation(organization_id: int, email: str) -> bool:
    return Invitation.objects.pending().filter(organization_id=organization_id, email=normalize_email(email)).exists()


def check_bulk_allowed(inviter: User, how_many: int) -> None:
    """Before a CSV: the whole file fits in this hour's allowance (so a file is never half sent by the throttle)."""
    _throttle(inviter, how_many)
