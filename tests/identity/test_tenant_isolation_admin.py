"""Tenant isolation in Django admin, driven as an org admin through the real admin forms.

Domain ownership is a platform fact (renaming or moving a domain un-verifies it, and org admins can do neither);
an org admin adds people invitation-style, with one answer whether or not the address has an account, and never
from a domain another organisation verified; the "view on site" redirector neither crashes nor tells whether a
foreign object exists.
"""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages

from jeto_identity.models import (
    AuditEvent,
    Membership,
    Organization,
    OrganizationDomain,
    Role,
)
from jeto_identity.services import audit
from tests.conftest import sign_in
from tests.identity.test_admin_isolation import _existing_domains, _existing_memberships, _inline_data

pytestmark = pytest.mark.django_db


def domain_url(domain: OrganizationDomain, view: str = "change") -> str:
    return f"/admin/jeto_identity/organizationdomain/{domain.pk}/{view}/"


def org_url(org: Organization) -> str:
    return f"/admin/jeto_identity/organization/{org.pk}/change/"


def flash(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def as_acme_admin(client, acme_admin, acme_member, password):
    sign_in(client, acme_admin.email, password)
    return client


@pytest.fixture
def as_superuser(client, superuser, password):
    sign_in(client, superuser.email, password)
    return client


@pytest.fixture
def acme_domain(acme) -> OrganizationDomain:
    return acme.domains.get(domain="acme.test")


@pytest.fixture
def attackers_other_org(acme_admin) -> Organization:
    """A second organisation the acme admin owns (their own sandbox, say)."""
    org = Organization.objects.create(name="Acme Labs", slug="acme-labs")
    Membership.objects.create(user=acme_admin, organization=org, role=Role.OWNER)
    return org


# --- a verified domain keeps its name and organisation (points 1 and 3) -----------------------------------


def test_org_admin_cannot_rename_a_verified_domain_on_its_change_form(as_acme_admin, acme, acme_domain):
    response = as_acme_admin.post(domain_url(acme_domain), {"domain": "partner.test", "organization": str(acme.pk)})
    assert response.status_code in (200, 302)
    acme_domain.refresh_from_db()
    assert (acme_domain.domain, acme_domain.organization_id, acme_domain.verified) == ("acme.test", acme.pk, True)
    assert not OrganizationDomain.objects.filter(domain="partner.test").exists()


def test_org_admin_cannot_rename_a_verified_domain_in_the_organisation_form(as_acme_admin, acme, acme_domain):
    domains = _existing_domains(acme)
    domains[0]["domain"] = "partner.test"
    data = _inline_data(acme, memberships=_existing_memberships(acme), domains=domains)
    response = as_acme_admin.post(org_url(acme), data)
    assert response.status_code == 302, response.content[:2000]
    acme_domain.refresh_from_db()
    assert (acme_domain.domain, acme_domain.verified) == ("acme.test", True)
    assert not OrganizationDomain.objects.filter(domain="partner.test").exists()


def test_org_admin_cannot_move_a_verified_domain_to_another_organisation_they_own(
    as_acme_admin, acme, acme_domain, attackers_other_org
):
    response = as_acme_admin.post(
        domain_url(acme_domain), {"domain": "acme.test", "organization": str(attackers_other_org.pk)}
    )
    assert response.status_code in (200, 302)
    acme_domain.refresh_from_db()
    assert (acme_domain.organization_id, acme_domain.verified) == (acme.pk, True)


def test_org_admin_still_adds_domains_unverified_and_removes_their_own(as_acme_admin, acme, acme_domain):
    response = as_acme_admin.post(
        "/admin/jeto_identity/organizationdomain/add/",
        {"domain": "Acme-Corp.test", "organization": str(acme.pk), "verified": "on"},
    )
    assert response.status_code == 302
    added = OrganizationDomain.objects.get(domain="acme-corp.test")
    assert added.organization == acme and not added.verified

    data = _inline_data(
        acme,
        memberships=_existing_memberships(acme),
        domains=[*_existing_domains(acme), {"organization": str(acme.pk), "domain": "acme.example", "verified": "on"}],
    )
    assert as_acme_admin.post(org_url(acme), data).status_code == 302
    assert OrganizationDomain.objects.get(domain="acme.example").verified is False

    assert as_acme_admin.post(domain_url(acme_domain, "delete"), {"post": "yes"}).status_code == 302
    assert not OrganizationDomain.objects.filter(pk=acme_domain.pk).exists()


def test_renaming_or_moving_a_verified_domain_unverifies_it_whoever_saves(acme, globex, acme_domain):
    acme_domain.domain = "acme-renamed.test"
    acme_domain.save()
    acme_domain.refresh_from_db()
    assert not acme_domain.verified

    moved = globex.domains.get()
    moved.organization = acme
    moved.save(update_fields=["organization"])  # a partial save still un-verifies
    moved.refresh_from_db()
    assert (moved.organization_id, moved.verified) == (acme.pk, False)

    moved.verified = True
    moved.save()
    untouched = OrganizationDomain.objects.get(pk=moved.pk)
    untouched.save()
    untouched.refresh_from_db()
    assert untouched.verified  # verifying, and saving without a change, keep it verified


def test_superuser_who_renames_a_verified_domain_is_told_to_verify_it_again(as_superuser, acme, acme_domain):
    response = as_superuser.post(
        domain_url(acme_domain), {"domain": "acme-renamed.test", "organization": str(acme.pk), "verified": "on"}
    )
    assert response.status_code == 302
    acme_domain.refresh_from_db()
    assert (acme_domain.domain, acme_domain.verified) == ("acme-renamed.test", False)
    assert any("no longer verified" in m for m in flash(response))


def test_superuser_moving_a_domain_in_the_organisation_form_is_told_too(as_superuser, acme, acme_domain):
    domains = _existing_domains(acme)
    domains[0].update(domain="acme-new.test", verified="on")
    data = _inline_data(acme, memberships=_existing_memberships(acme), domains=domains)
    data["slug"] = acme.slug
    response = as_superuser.post(org_url(acme), data)
    assert response.status_code == 302, response.content[:2000]
    acme_domain.refresh_from_db()
    assert (acme_domain.domain, acme_domain.verified) == ("acme-new.test", False)
    assert any("no longer verified" in m for m in flash(response))


def test_every_domain_change_is_audited(acme, globex, acme_domain):
    domain = OrganizationDomain.objects.create(organization=acme, domain="acme.example")
    added = AuditEvent.objects.filter(event=audit.DOMAIN_ADDED, subject="acme.example").get()
    assert (added.organization_id, added.details) == (acme.pk, {"domain": "acme.example", "verified": False})

    domain.verified = True
    domain.save()
    verified = AuditEvent.objects.filter(event=audit.DOMAIN_CHANGED).get()
    assert verified.details == {"domain": "acme.example", "changes": {"verified": [False, True]}}

    domain.domain, domain.organization = "globex.example", globex
    domain.save()
    moved = AuditEvent.objects.filter(event=audit.DOMAIN_CHANGED).exclude(pk=verified.pk)
    assert {e.organization_id for e in moved} == {acme.pk, globex.pk}  # both organisations see the move
    assert {e.subject for e in moved} == {"globex.example"}
    assert [e.details["changes"] for e in moved][0] == {
        "domain": ["acme.example", "globex.example"],
        "organization": ["acme", "globex"],
        "verified": [True, False],
    }

    domain.delete()
    removed = AuditEvent.objects.filter(event=audit.DOMAIN_REMOVED).get()
    assert (removed.organization_id, removed.details) == (globex.pk, {"domain": "globex.example", "verified": False})


def test_admin_domain_changes_are_audited_with_the_acting_admin(as_acme_admin, acme_admin, acme, acme_domain):
    as_acme_admin.post(domain_url(acme_domain, "delete"), {"post": "yes"})
    event = AuditEvent.objects.filter(event=audit.DOMAIN_REMOVED).get()
    assert (event.actor_id, event.organization_id, event.details["domain"]) == (acme_admin.pk, acme.pk, "acme.test")
