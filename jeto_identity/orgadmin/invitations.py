"""Invitations for existing accounts: an org admin never attaches an account that already exists without its consent.

*Users → Add* creates an account (and its membership) only for an address that has none. For an address that has
one, it e-mails a signed, expiring link instead; the membership is created only when the invited account, signed
in, accepts on that page. Everything the link grants is bound in its signature (account, organisation, role and the
admin who invited), and re-checked when it is accepted.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse

from jeto_identity.core import access, mail
from jeto_identity.models import Membership, Organization, Role, User

SALT = "jeto_identity.orgadmin.invitation"
MAX_AGE_SECONDS = 72 * 3600
INVITABLE_ROLES = (Role.MEMBER, Role.ADMIN, Role.OWNER)
SUBJECT_TEMPLATE = "jeto_identity/orgadmin/email/invitation_subject.txt"
BODY_TEMPLATE = "jeto_identity/orgadmin/email/invitation.txt"


class InvalidInvitation(Exception):
    """The link is malformed, forged, expired, or no longer grants anything."""


@dataclass(frozen=True)
class Invitation:
    user_id: str
    organization: Organization
    role: str
    inviter_id: str


def make_token(user: User, organization: Organization, role: str, inviter: User) -> str:
    return signing.dumps(
        {"u": str(user.pk), "o": organization.pk, "r": role, "by": str(inviter.pk)}, salt=SALT, compress=True
    )


def read_token(token: str) -> Invitation:
    """The invitation a link carries; raises ``InvalidInvitation`` for a bad, expired or stale one."""
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE_SECONDS)
        user_id, org_id, role, inviter_id = str(data["u"]), int(data["o"]), str(data["r"]), str(data["by"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise InvalidInvitation from exc
    if role not in INVITABLE_ROLES:
        raise InvalidInvitation
    organization = Organization.objects.filter(pk=org_id).first()
    if organization is None:
        raise InvalidInvitation
    return Invitation(user_id, organization, role, inviter_id)


def inviter_may_still_grant(invitation: Invitation) -> bool:
    """The admin who invited still runs the organisation (and owns it, for the owner role) and is still staff."""
    try:
        inviter = User.objects.filter(pk=invitation.inviter_id, is_active=True).first()
    except ValidationError:  # not a valid primary key (only a correctly signed token gets here, but still)
        return False
    if inviter is None:
        return False
    if inviter.is_superuser:
        return True
    if not (inviter.is_staff and invitation.organization.pk in access.administered_org_ids(inviter)):
        return False
    return invitation.role != Role.OWNER or invitation.organization.pk in access.owned_org_ids(inviter)


def is_member(user: User, organization: Organization) -> bool:
    return Membership.objects.filter(user=user, organization=organization).exists()


def send(request: HttpRequest, user: User, organization: Organization, role: str, inviter: User) -> None:
    """E-mail ``user`` a link to join ``organization`` as ``role`` (off the request path, like password reset)."""
    token = make_token(user, organization, role, inviter)
    context = {
        "email": user.email,
        "organization": organization.name,
        "role": Role(role).label,
        "inviter": inviter.email,
        "url": request.build_absolute_uri(reverse("jeto_identity:invitation", args=[token])),
        "hours": MAX_AGE_SECONDS // 3600,
    }
    mail.send_mail(SUBJECT_TEMPLATE, BODY_TEMPLATE, context, None, user.email)


def accept(user: User, invitation: Invitation) -> bool:
    """Make ``user`` (the invited account, signed in) a member; False if it already was (nothing changes)."""
    if str(user.pk) != invitation.user_id:
        raise PermissionError("This invitation is for another account.")
    with transaction.atomic():
        if not inviter_may_still_grant(invitation):
            raise InvalidInvitation
        _, created = Membership.objects.get_or_create(
            user=user, organization=invitation.organization, defaults={"role": invitation.role}
        )
    return created
