"""Who an organisation's SCIM may create, match and change: the tenant rules of provisioning.

docs/security.md ("SCIM provisioning") states them; every rule here is a test in tests/identity/test_scim_isolation.py.

* **Entitlement**: ``scim_allowed(org)`` is the one place that decides whether an organisation may use SCIM.
* **Addresses**: a ``userName`` is an email address in one of the organisation's *verified* domains. An IdP can
  never create or rename an account into another organisation's domain, or a domain nobody verified.
* **Matching an existing account** (emails are unique case-insensitively): an account that is in no organisation, or
  already a plain member of this one only, and is neither staff nor superuser, is *managed* (SCIM keeps its profile
  and active flag). An account that is a member of this organisation and also something more (staff, owner or admin
  anywhere, member of another organisation) is *linked*: SCIM sees it and changes only its membership here. Any other
  existing account (another organisation's only, staff outside it, a superuser) is never attached: 409.
"""

from __future__ import annotations

from jeto_identity.core.organizations import Role
from jeto_identity.core.users import normalize_email
from jeto_identity.models import Membership, Organization, OrganizationDomain, User


def scim_allowed(organization: Organization) -> bool:
    """May ``organization`` use SCIM provisioning? Its plan says (``orgadmin.plans``, feature ``scim``).

    Called for every token authentication (a token of an organisation whose plan leaves SCIM out gets 403 at
    once, whenever the plan changes) and when an admin issues a token.
    """
    from jeto_identity.orgadmin import plans

    return plans.is_entitled(organization, plans.SCIM)


def verified_domains(organization: Organization) -> frozenset[str]:
    return frozenset(
        OrganizationDomain.objects.filter(organization=organization, verified=True).values_list("domain", flat=True)
    )


def in_verified_domain(organization: Organization, email: str, *, domains: frozenset[str] | None = None) -> bool:
    email = normalize_email(email)
    if email.count("@") != 1 or not email.split("@")[0]:
        return False
    domains = verified_domains(organization) if domains is None else domains
    return email.rsplit("@", 1)[1] in domains


def memberships(user: User) -> list[tuple[int, str]]:
    return list(Membership.objects.filter(user=user).values_list("organization_id", "role"))


def may_adopt(organization: Organization, user: User, rows: list[tuple[int, str]] | None = None) -> bool:
    """May this organisation's SCIM take charge of ``user`` (profile, active flag)?"""
    if user.is_superuser or user.is_staff:
        return False
    rows = memberships(user) if rows is None else rows
    return all(org == organization.pk and role == Role.MEMBER for org, role in rows)


def may_link(organization: Organization, user: User, rows: list[tuple[int, str]] | None = None) -> bool:
    """May it at least see ``user`` as its own (membership changes only)? Only its members, never a superuser."""
    if user.is_superuser:
        return False
    rows = memberships(user) if rows is None else rows
    return any(org == organization.pk for org, _ in rows)


def is_owner(organization: Organization, user: User) -> bool:
    return Membership.objects.filter(organization=organization, user=user, role=Role.OWNER).exists()
