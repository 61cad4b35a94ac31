"""An org admin sees and changes only their own organisations, members and domains, and cannot escalate."""

import pytest

from jeto_identity.models import Invitation, Membership, Organization, OrganizationDomain, Role, User
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_acme_admin(client, acme_admin, acme_member, globex_admin, globex_member, password):
    sign_in(client, acme_admin.email, password)
    return client


def _inline_data(org, memberships=(), domains=()):
    """Management-form data for the Organization change page's two inlines."""
    data = {
        "name": org.name,
        "mfa_required": "on" if org.mfa_required else "",
        "sso_enforced": "on" if org.sso_enforced else "",
        "memberships-TOTAL_FORMS": str(len(memberships)),
        "memberships-INITIAL_FORMS": str(sum(1 for m in memberships if m.get("id"))),
        "domains-TOTAL_FORMS": str(len(domains)),
        "domains-INITIAL_FORMS": str(sum(1 for d in domains if d.get("id"))),
    }
    for prefix, rows in (("memberships", memberships), ("domains", domains)):
        for i, row in enumerate(rows):
            for key, value in row.items():
                data[f"{prefix}-{i}-{key}"] = value
    return {k: v for k, v in data.items() if v != ""}


def _existing_memberships(org):
    return [
        {"id": str(m.pk), "organization": str(org.pk), "user": str(m.user_id), "role": m.role}
        for m in org.memberships.order_by("organization__name", "user__email")
    ]


def _existing_domains(org):
    return [{"id": str(d.pk), "organization": str(org.pk), "domain": d.domain} for d in org.domains.all()]


def test_org_admin_sees_only_their_organisation(as_acme_admin, acme, globex):
    page = as_acme_admin.get("/admin/jeto_identity/organization/")
    assert page.status_code == 200
    assert list(page.context["cl"].queryset) == [acme]


def test_foreign_organisation_url_is_404(as_acme_admin, globex):
    for suffix in ("change/", "delete/", "history/"):
        assert as_acme_admin.get(f"/admin/jeto_identity/organization/{globex.pk}/{suffix}").status_code == 404
    response = as_acme_admin.post(f"/admin/jeto_identity/organization/{globex.pk}/change/", {"name": "Pwned"})
    assert response.status_code == 404
    globex.refresh_from_db()
    assert globex.name == "Globex"


def test_users_list_shows_only_people_sharing_an_organisation(as_acme_admin):
    page = as_acme_admin.get("/admin/jeto_identity/user/")
    emails = {u.email for u in page.context["cl"].queryset}
    assert emails == {"ada@acme.test", "max@acme.test"}


def test_foreign_user_url_is_404(as_acme_admin, globex_member):
    assert as_acme_admin.get(f"/admin/jeto_identity/user/{globex_member.pk}/change/").status_code == 404
    assert as_acme_admin.get(f"/admin/jeto_identity/user/{globex_member.pk}/password/").status_code == 404


def test_user_autocomplete_does_not_leak_foreign_users(as_acme_admin):
    response = as_acme_admin.get(
        "/admin/autocomplete/",
        {"app_label": "jeto_identity", "model_name": "membership", "field_name": "user", "term": "globex"},
    )
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_org_admin_cannot_grant_superuser_or_staff(as_acme_admin, acme_member):
    response = as_acme_admin.post(
        f"/admin/jeto_identity/user/{acme_member.pk}/change/",
        {"email": acme_member.email, "first_name": "Max", "is_active": "on", "is_staff": "on", "is_superuser": "on"},
    )
    assert response.status_code == 302
    acme_member.refresh_from_db()
    assert not acme_member.is_staff and not acme_member.is_superuser
    assert acme_member.first_name == "Max"


def test_org_admin_cannot_change_a_superuser_who_is_a_member(as_acme_admin, acme, superuser):
    Membership.objects.create(user=superuser, organization=acme, role=Role.MEMBER)
    response = as_acme_admin.post(
        f"/admin/jeto_identity/user/{superuser.pk}/change/", {"email": "takeover@evil.test", "is_active": "on"}
    )
    assert response.status_code == 403
    superuser.refresh_from_db()
    assert superuser.email == "root@jeto.test"


def test_org_admin_cannot_change_someone_who_is_also_in_another_org(as_acme_admin, acme, globex_member):
    Membership.objects.create(user=globex_member, organization=acme, role=Role.MEMBER)
    response = as_acme_admin.post(
        f"/admin/jeto_identity/user/{globex_member.pk}/change/", {"email": "x@acme.test", "is_active": "on"}
    )
    assert response.status_code == 403
    globex_member.refresh_from_db()
    assert globex_member.email == "gus@globex.test"


def test_org_admin_adds_a_member_to_their_own_organisation(as_acme_admin, acme):
    response = as_acme_admin.post(
        "/admin/jeto_identity/user/add/",
        {"email": "New@Acme.test", "first_name": "New", "organization": str(acme.pk), "role": Role.MEMBER},
    )
    assert response.status_code == 302
    # An invitation (docs/admins.md#invitations): nothing exists until the person accepts.
    assert not User.objects.filter(email="new@acme.test").exists()
    assert Invitation.objects.get(email="new@acme.test").organization == acme


def test_org_admin_cannot_add_a_member_to_another_organisation(as_acme_admin, globex):
    response = as_acme_admin.post(
        "/admin/jeto_identity/user/add/",
        {"email": "spy@globex.test", "organization": str(globex.pk), "role": Role.MEMBER},
    )
    assert response.status_code == 200  # the form redisplays with an error
    assert not User.objects.filter(email="spy@globex.test").exists()
    assert not Invitation.objects.filter(email="spy@globex.test").exists()


def test_org_admin_cannot_add_foreign_memberships_directly(as_acme_admin, globex, acme_member):
    response = as_acme_admin.post(
        "/admin/jeto_identity/membership/add/",
        {"user": str(acme_member.pk), "organization": str(globex.pk), "role": Role.MEMBER},
    )
    assert response.status_code == 200
    assert not Membership.objects.filter(organization=globex, user=acme_member).exists()


def test_org_admin_cannot_pull_a_foreign_user_into_their_org(as_acme_admin, acme, globex_member):
    data = _inline_data(
        acme,
        memberships=[
            *_existing_memberships(acme),
            {"organization": str(acme.pk), "user": str(globex_member.pk), "role": "member"},
        ],
        domains=_existing_domains(acme),
    )
    response = as_acme_admin.post(f"/admin/jeto_identity/organization/{acme.pk}/change/", data)
    assert response.status_code == 200
    assert not Membership.objects.filter(organization=acme, user=globex_member).exists()


def test_org_admin_toggles_policy_flags(as_acme_admin, acme):
    acme.mfa_required = True
    data = _inline_data(acme, memberships=_existing_memberships(acme), domains=_existing_domains(acme))
    response = as_acme_admin.post(f"/admin/jeto_identity/organization/{acme.pk}/change/", data)
    assert response.status_code == 302, response.content[:2000]
    acme.refresh_from_db()
    assert acme.mfa_required  # Enforce SSO and MFA after SSO are the owner's (test_admin_owner_policy.py)


def test_admin_who_is_not_owner_cannot_grant_owner(as_acme_admin, acme, acme_member):
    rows = _existing_memberships(acme)
    for row in rows:
        if row["user"] == str(acme_member.pk):
            row["role"] = Role.OWNER
    data = _inline_data(acme, memberships=rows, domains=_existing_domains(acme))
    response = as_acme_admin.post(f"/admin/jeto_identity/organization/{acme.pk}/change/", data)
    assert response.status_code == 200
    assert Membership.objects.get(user=acme_member).role == Role.MEMBER


def test_owner_can_grant_owner(client, acme_owner, acme_member, acme, password):
    sign_in(client, acme_owner.email, password)
    rows = _existing_memberships(acme)
    for row in rows:
        if row["user"] == str(acme_member.pk):
            row["role"] = Role.OWNER
    data = _inline_data(acme, memberships=rows, domains=_existing_domains(acme))
    response = client.post(f"/admin/jeto_identity/organization/{acme.pk}/change/", data)
    assert response.status_code == 302
    assert Membership.objects.get(user=acme_member).role == Role.OWNER


def test_org_admin_cannot_verify_a_domain(as_acme_admin, acme):
    data = _inline_data(
        acme,
        memberships=_existing_memberships(acme),
        domains=[*_existing_domains(acme), {"organization": str(acme.pk), "domain": "gmail.com", "verified": "on"}],
    )
    response = as_acme_admin.post(f"/admin/jeto_identity/organization/{acme.pk}/change/", data)
    assert response.status_code == 302
    assert OrganizationDomain.objects.get(domain="gmail.com").verified is False


def test_org_admin_cannot_create_organisations(as_acme_admin):
    assert as_acme_admin.get("/admin/jeto_identity/organization/add/").status_code == 403
    as_acme_admin.post("/admin/jeto_identity/organization/add/", {"name": "Evil", "slug": "evil"})
    assert not Organization.objects.filter(slug="evil").exists()


def test_foreign_domain_and_membership_urls_are_404(as_acme_admin, globex):
    domain = globex.domains.get()
    membership = globex.memberships.first()
    assert as_acme_admin.get(f"/admin/jeto_identity/organizationdomain/{domain.pk}/change/").status_code == 404
    assert as_acme_admin.get(f"/admin/jeto_identity/membership/{membership.pk}/change/").status_code == 404
    assert (
        as_acme_admin.post(f"/admin/jeto_identity/membership/{membership.pk}/delete/", {"post": "yes"}).status_code
        == 404
    )
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_platform_superuser_sees_everything(client, superuser, acme, globex, password):
    sign_in(client, superuser.email, password)
    page = client.get("/admin/jeto_identity/organization/")
    assert set(page.context["cl"].queryset) == {acme, globex}


def test_members_and_unaffiliated_staff_get_no_admin(client, acme_member, make_user, password, acme):
    sign_in(client, acme_member.email, password)
    assert client.get("/admin/").status_code == 302  # to the login page
    make_user("staff@jeto.test", is_staff=True)
    other = type(client)()
    sign_in(other, "staff@jeto.test", password)
    assert other.get("/admin/jeto_identity/organization/").status_code == 403
    assert other.get(f"/admin/jeto_identity/organization/{acme.pk}/change/").status_code == 403


def test_admin_login_goes_through_our_sign_in_pipeline(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response.url == "/login/?next=%2Fadmin%2F"


# --- escalation inside one organisation (found in review) ------------------------------------------------


def test_admin_cannot_change_or_deactivate_the_owner(as_acme_admin, acme_owner):
    response = as_acme_admin.post(f"/admin/jeto_identity/user/{acme_owner.pk}/change/", {"first_name": "X"})
    assert response.status_code == 403
    acme_owner.refresh_from_db()
    assert acme_owner.is_active and acme_owner.first_name == ""


def test_admin_cannot_reset_the_owners_mfa(as_acme_admin, acme_owner):
    from jeto_identity.core import access

    assert not access.can_manage_user(User.objects.get(email="ada@acme.test"), acme_owner)


def test_owner_manages_admins_and_admin_manages_members(acme_owner, acme_admin, acme_member):
    from jeto_identity.core import access

    assert access.can_manage_user(acme_owner, acme_admin)
    assert access.can_manage_user(acme_admin, acme_member)
    assert not access.can_manage_user(acme_admin, acme_owner)


def test_org_admin_cannot_change_a_members_email(as_acme_admin, acme_member):
    User.objects.filter(pk=acme_member.pk).update(email_verified=True)
    as_acme_admin.post(
        f"/admin/jeto_identity/user/{acme_member.pk}/change/",
        {"email": "ceo@bigbank.example", "first_name": "Max", "is_active": "on"},
    )
    acme_member.refresh_from_db()
    assert acme_member.email == "max@acme.test" and acme_member.email_verified


def test_superuser_email_change_clears_email_verified(client, superuser, acme_member, password):
    User.objects.filter(pk=acme_member.pk).update(email_verified=True)
    sign_in(client, superuser.email, password)
    response = client.post(
        f"/admin/jeto_identity/user/{acme_member.pk}/change/",
        {
            "email": "max.new@acme.test",
            "first_name": "Max",
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    assert response.status_code == 302, response.content[:3000]
    acme_member.refresh_from_db()
    assert acme_member.email == "max.new@acme.test" and not acme_member.email_verified


def test_bulk_delete_cannot_remove_an_owner(as_acme_admin, acme_owner, acme):
    membership = Membership.objects.get(user=acme_owner, organization=acme)
    response = as_acme_admin.post(
        "/admin/jeto_identity/membership/",
        {"action": "delete_selected", "_selected_action": [str(membership.pk)], "post": "yes"},
    )
    assert response.status_code == 403
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_membership_cannot_be_moved_to_another_organisation(client, acme_admin, acme_owner, globex, acme, password):
    Membership.objects.create(user=acme_admin, organization=globex, role=Role.OWNER)
    sign_in(client, acme_admin.email, password)
    membership = Membership.objects.get(user=acme_owner, organization=acme)
    client.post(
        f"/admin/jeto_identity/membership/{membership.pk}/change/",
        {"user": str(acme_owner.pk), "organization": str(globex.pk), "role": Role.OWNER},
    )
    membership.refresh_from_db()
    assert membership.organization == acme


def test_list_filters_do_not_name_other_organisations(as_acme_admin):
    Organization.objects.create(name="Initech Secret Merger", slug="initech")
    page = as_acme_admin.get("/admin/jeto_identity/membership/").content.decode()
    assert "Initech Secret Merger" not in page and "Globex" not in page
