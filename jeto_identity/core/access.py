"""Who administers which organisation: the single source for org-scoped admin decisions."""

from __future__ import annotations

from django.db.models import QuerySet

from jeto_identity.core.organizations import ADMIN_ROLES, Role
from jeto_identity.models import Membership, Organization, User

_CACHE_ATTR = "_jeto_admin_org_ids"


def administered_org_ids(user: User) -> frozenset[int]:
    """IDs of the organisations where ``user`` is owner or admin (cached on the user object for the request)."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        cached = frozenset(
            Membership.objects.filter(user=user, role__in=ADMIN_ROLES).values_list("organization_id", flat=True)
        )
        setattr(user, _CACHE_ATTR, cached)
    return cached


def owned_org_ids(user: User) -> frozenset[int]:
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    return frozenset(Membership.objects.filter(user=user, role=Role.OWNER).values_list("organization_id", flat=True))


def is_org_admin(user: User) -> bool:
    return bool(getattr(user, "is_active", False) and getattr(user, "is_staff", False) and administered_org_ids(user))


def administered_organizations(user: User) -> QuerySet[Organization]:
    if user.is_superuser:
        return Organization.objects.all()
    return Organization.objects.filter(pk__in=administered_org_ids(user))


def visible_users(user: User) -> QuerySet[User]:
    """Users an org admin may see: those sharing at least one administered organisation."""
    if user.is_superuser:
        return User.objects.all()
    return User.objects.filter(
        pk__in=Membership.objects.filter(organization_id__in=administered_org_ids(user)).values("user_id")
    )


def can_manage_user(admin_user: User, target: User) -> bool:
    """May ``admin_user`` change ``target``'s account (active flag, MFA reset)?

    Superusers: anyone. Org admins: themselves, and people all of whose organisations they run, where an admin
    manages members and only an owner manages that organisation's admins and owners. Never a superuser, never an
    account in no organisation, and a staff account only when the admin owns every one of its organisations
    (owners manage their admins; nobody but a platform admin manages platform staff outside their organisations).
    """
    if admin_user.is_superuser:
        return True
    if target.is_superuser:
        return False
    if target.pk == admin_user.pk:
        return True
    rows = list(Membership.objects.filter(user=target).values_list("organization_id", "role"))
    administered, owned = administered_org_ids(admin_user), owned_org_ids(admin_user)
    if not rows:
        return False
    if target.is_staff:
        return all(org in owned for org, _ in rows)
    return all(org in administered and (role == Role.MEMBER or org in owned) for org, role in rows)
