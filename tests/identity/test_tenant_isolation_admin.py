"""Tenant isolation in Django admin, driven as an org admin through the real admin forms.

Domain ownership is a platform fact (renaming or moving a domain un-verifies it, and org admins can do neither);
an org admin adds people invitation-style, with one answer whether or not the address has an account (an existing
one is e-mailed an invitation, never attached: test_admin_invitations.py), and never from a domain another
organisation verified; the "view on site" redirector neither crashes nor tells whether a
foreign object exists.
"""

from __future__ import annotations

import uuid

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.contrib.messages import get_messages

from jeto_identity.audit import services as audit
from jeto_identity.models import (
    AuditEvent,
    Invitation,
    Membership,
    OAuthClient,
    Organization,
    OrganizationDomain,
    Role,
    User,
)
from tests.conftest import sign_in
from tests.identity.admin_support import Objects, registered_labels
from tests.identity.test_admin_isolation import _existing_domains, _existing_memberships, _inline_data

pytestmark = pytest.mark.django_db

USER_ADD = "/admin/jeto_identity/user/add/"
USER_LIST = "/admin/jeto_identity/user/"


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


# --- a verified domain keeps its name and organisation ----------------------------------------------------


def test_org_admin_cannot_rename_a_verified_domain_on_its_change_form(as_acme_admin, acme, acme_domain):
    response = as_acme_admin.post(domain_url(acme_domain), {"domain": "partner.test", "organization": str(acme.pk)})
    assert response.status_code == 302
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
    assert response.status_code == 302
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


# --- adding people ------------------------------------------------------------------------------------------


def add_person(client, email: str, org: Organization, role: str = Role.MEMBER, **extra):
    return client.post(
        USER_ADD, {"email": email, "first_name": "New", "organization": str(org.pk), "role": role, **extra}
    )


def test_org_admin_cannot_add_an_account_in_another_organisations_verified_domain(as_acme_admin, acme, globex):
    response = add_person(as_acme_admin, "ceo@globex.test", acme)
    assert response.status_code == 200
    assert "belongs to another organisation" in str(response.context["adminform"].form.errors["email"])
    assert not User.objects.filter(email="ceo@globex.test").exists()


def test_the_domain_rule_does_not_tell_whether_the_account_exists(as_acme_admin, acme, globex_member):
    existing = add_person(as_acme_admin, globex_member.email, acme)
    unknown = add_person(as_acme_admin, "nobody@globex.test", acme)
    assert existing.status_code == unknown.status_code == 200
    assert existing.context["adminform"].form.errors == unknown.context["adminform"].form.errors
    assert not Membership.objects.filter(user=globex_member, organization=acme).exists()


def test_unverified_and_own_domains_are_fine(as_acme_admin, acme, globex):
    OrganizationDomain.objects.create(organization=globex, domain="globex-pending.test", verified=False)
    assert add_person(as_acme_admin, "pat@globex-pending.test", acme).status_code == 302
    assert add_person(as_acme_admin, "new@acme.test", acme).status_code == 302
    assert set(Invitation.objects.filter(organization=acme).values_list("email", flat=True)) == {
        "pat@globex-pending.test",
        "new@acme.test",
    }


def add_and_read(client, email: str, org: Organization, role: str = Role.MEMBER) -> tuple:
    """Add ``email`` and follow the answer: (status, redirect target, messages shown, with the email masked)."""
    response = add_person(client, email, org, role)
    shown = (
        [str(m) for m in client.get(response["Location"]).context["messages"]] if response.status_code == 302 else []
    )
    return response.status_code, response.get("Location"), [m.replace(email.lower(), "<email>") for m in shown]


def test_adding_an_existing_or_a_new_address_answers_the_same(as_acme_admin, acme, make_user, password):
    known = make_user("pat@partner.test", first_name="Pat", last_name="Partner")
    old_hash = known.password
    new_answer = add_and_read(as_acme_admin, "sam@partner.test", acme)
    known_answer = add_and_read(as_acme_admin, "Pat@Partner.test", acme)

    assert (
        new_answer
        == known_answer
        == (
            302,
            USER_LIST,
            [
                "Invited <email> to join Acme as Member. They join once they accept "
                "(Invitations lists it until then)."
            ],
        )
    )
    # Nothing is created for either until they accept: the member list cannot tell them apart either.
    assert not User.objects.filter(email="sam@partner.test").exists()
    assert set(Invitation.objects.values_list("email", flat=True)) == {"sam@partner.test", "pat@partner.test"}
    known.refresh_from_db()
    assert (known.first_name, known.last_name, known.password) == ("Pat", "Partner", old_hash)  # untouched
    # Never attached without its consent: it was invited instead (test_admin_invitations.py).
    assert not Membership.objects.filter(user=known).exists()


def test_continue_and_popup_buttons_do_not_lead_to_the_accounts_page(as_acme_admin, acme, make_user):
    make_user("pat@partner.test")
    for extra in ({"_continue": "1"}, {"_popup": "1"}, {"_addanother": "1"}):
        response = add_person(as_acme_admin, "pat@partner.test", acme, **extra)
        assert (response.status_code, response["Location"]) == (302, USER_LIST), extra


def test_re_adding_a_member_changes_nothing_and_answers_the_same(as_acme_admin, acme, acme_owner):
    fresh = add_and_read(as_acme_admin, "sam@partner.test", acme)
    assert add_and_read(as_acme_admin, acme_owner.email, acme) == fresh
    assert Membership.objects.get(user=acme_owner, organization=acme).role == Role.OWNER  # not demoted


def test_a_superuser_is_never_added_and_the_answer_is_the_same(as_acme_admin, acme, superuser):
    fresh = add_and_read(as_acme_admin, "sam@partner.test", acme)
    assert add_and_read(as_acme_admin, superuser.email, acme) == fresh
    assert not Membership.objects.filter(user=superuser).exists()
    superuser.refresh_from_db()
    assert superuser.first_name == ""


def test_only_owners_add_owners(as_acme_admin, acme, make_user):
    make_user("pat@partner.test")
    response = add_person(as_acme_admin, "pat@partner.test", acme, role=Role.OWNER)
    assert response.status_code == 200
    assert not Membership.objects.filter(user__email="pat@partner.test").exists()


def test_owning_another_organisation_does_not_make_an_admin_an_owner_here(
    as_acme_admin, acme, attackers_other_org, make_user
):
    make_user("pat@partner.test")
    response = add_person(as_acme_admin, "pat@partner.test", acme, role=Role.OWNER)
    assert response.status_code == 200
    assert "Only an owner" in str(response.context["adminform"].form.errors["role"])
    assert not Membership.objects.filter(user__email="pat@partner.test").exists()


def test_owner_invites_an_owner(client, acme_owner, acme, password):
    sign_in(client, acme_owner.email, password)
    assert add_person(client, "pat@partner.test", acme, role=Role.OWNER).status_code == 302
    assert Invitation.objects.get(email="pat@partner.test", organization=acme).role == Role.OWNER


def test_the_add_is_one_transaction(as_acme_admin, acme, monkeypatch):
    from jeto_identity.audit import services as audit_services

    def fail(*args, **kwargs):
        raise RuntimeError("audit insert failed")

    monkeypatch.setattr(audit_services, "record", fail)
    as_acme_admin.raise_request_exception = False
    response = add_person(as_acme_admin, "sam@partner.test", acme)
    assert response.status_code == 500
    assert not Invitation.objects.filter(email="sam@partner.test").exists()


# --- the "view on site" redirector --------------------------------------------------------------------------


def test_view_on_site_answers_the_same_404_for_foreign_and_missing_objects(
    as_acme_admin, globex, globex_member, acme_member
):
    foreign = Objects(globex, globex_member).build()
    assert set(foreign) == registered_labels()
    bodies = set()
    for label, obj in foreign.items():
        ct = ContentType.objects.get_for_model(obj, for_concrete_model=False)
        missing = uuid.uuid4() if isinstance(obj.pk, uuid.UUID) else 10**9
        for object_id in (obj.pk, missing, "not-an-id"):
            response = as_acme_admin.get(f"/admin/r/{ct.pk}/{object_id}/")
            assert response.status_code == 404, (label, object_id)
            bodies.add(response.content)
    assert len(bodies) == 1


def test_view_on_site_redirects_nowhere_even_for_a_superuser(as_superuser, acme, acme_member):
    for label, obj in Objects(acme, acme_member).build().items():
        ct = ContentType.objects.get_for_model(obj, for_concrete_model=False)
        assert as_superuser.get(f"/admin/r/{ct.pk}/{obj.pk}/").status_code == 404, label


def test_no_model_has_a_page_outside_the_admin():
    """django-oauth-toolkit's get_absolute_url reverses views we don't mount: a 500 wherever it is called."""
    assert not hasattr(OAuthClient(), "get_absolute_url")
    assert [m._meta.label for m in apps.get_models() if hasattr(m(), "get_absolute_url")] == []
