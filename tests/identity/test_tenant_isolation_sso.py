"""An IdP never signs in as someone outside its organisation's trust (docs/security.md, "What an IdP can assert").

Driven through the real SSO callback against oidc-provider-mock and, where an org admin acts, the real admin forms.
Each test names the guard it needs; removing that guard makes it fail.
"""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import SESSION_KEY

from jeto_identity.adapter import DefaultAdapter
from jeto_identity.audit import services as audit
from jeto_identity.login import services as login_service
from jeto_identity.models import AuditEvent, FederatedIdentity, Membership, Organization, OrganizationDomain, Role
from jeto_identity.sso import services as sso_service
from tests.identity.mfa_support import code_for, enrol
from tests.sso_support import make_connection, sso_sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sso_env")]

LINK_URL = "/sso/link/"


def signed_in_user_id(client) -> str | None:
    return client.session.get(SESSION_KEY)


@pytest.fixture
def acme_sso(acme, idp):
    return make_connection(acme, idp.url)


@pytest.fixture
def initech(db) -> Organization:
    """Another customer whose domain nobody has verified yet."""
    org = Organization.objects.create(name="Initech", slug="initech")
    OrganizationDomain.objects.create(organization=org, domain="partner.test", verified=False)
    return org


@pytest.fixture
def boss(make_user, initech):
    """A staff admin of Initech."""
    user = make_user("boss@partner.test", is_staff=True, email_verified=True)
    Membership.objects.create(user=user, organization=initech, role=Role.OWNER)
    return user


# ---- attacks through an IdP, end to end ----------------------------------------------------------------------


def test_renaming_a_verified_domain_does_not_let_the_attackers_idp_sign_in_as_another_orgs_admin(
    client, acme, acme_admin, make_user, idp
):
    """Rename the verified acme.test to partner.test in admin, then have the IdP assert boss@partner.test."""
    initech = Organization.objects.create(name="Initech", slug="initech")  # no domain verified by anyone
    boss = make_user("boss@partner.test", is_staff=True, email_verified=True)
    Membership.objects.create(user=boss, organization=initech, role=Role.OWNER)
    make_connection(acme, idp.url)
    domain = OrganizationDomain.objects.get(domain="acme.test")
    client.force_login(acme_admin)
    client.post(
        f"/admin/jeto_identity/organizationdomain/{domain.pk}/change/",
        {"domain": "partner.test", "organization": acme.pk},
    )
    domain.refresh_from_db()
    assert domain.domain == "acme.test" or not domain.verified  # never a verified domain the platform didn't verify
    client.logout()

    idp.put_user("anything", email="boss@partner.test", email_verified=True)
    routed = "/sso/" in client.post("/login/", {"email": "boss@partner.test"}).url
    response = sso_sign_in(client, idp, "boss@partner.test" if routed else "someone@acme.test", "anything")
    assert response.status_code == 403
    assert signed_in_user_id(client) is None
    assert not FederatedIdentity.objects.filter(user=boss).exists()
    assert not Membership.objects.filter(user=boss, organization=acme).exists()
    client.force_login(boss)  # sanity: boss's own admin pages exist, so a 200 above would have been a takeover
    assert client.get("/admin/jeto_identity/organization/").status_code == 200


def test_even_with_a_verified_domain_an_idp_cannot_link_an_account_of_another_organisation(
    client, acme, acme_sso, initech, boss, idp
):
    """A verified domain alone is not enough: the account must be in the connection's organisation (or in none)."""
    OrganizationDomain.objects.filter(domain="partner.test").update(organization=acme, verified=True)
    idp.put_user("anything", email="boss@partner.test", email_verified=True)
    response = sso_sign_in(client, idp, "boss@partner.test", "anything")
    assert response.status_code == 403
    assert b"belongs to another organisation" in response.content
    assert signed_in_user_id(client) is None
    assert not FederatedIdentity.objects.exists()
    assert not Membership.objects.filter(user=boss, organization=acme).exists()
    assert AuditEvent.objects.filter(event=audit.SSO_SIGN_IN, outcome="denied", details__reason="other_organization")


def test_an_admin_cannot_configure_an_idp(client, acme, acme_admin, idp):
    """Configuring SSO is an owner's power."""
    client.force_login(acme_admin)
    assert client.get("/admin/jeto_identity/ssoconnection/add/").status_code == 403
    response = client.post(
        "/admin/jeto_identity/ssoconnection/add/",
        {"organization": acme.pk, "name": "Mine", "issuer": idp.url, "client_id": "x", "scopes": "openid email"},
    )
    assert response.status_code == 403
    assert not acme.sso_connections.exists()


def test_an_admin_sees_the_connection_read_only_and_cannot_repoint_it(client, acme, acme_admin, acme_sso, idp):
    client.force_login(acme_admin)
    url = f"/admin/jeto_identity/ssoconnection/{acme_sso.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    assert b'name="issuer"' not in page.content
    response = client.post(url, {"organization": acme.pk, "name": "x", "issuer": "https://evil.test", "client_id": "x"})
    assert response.status_code == 403
    acme_sso.refresh_from_db()
    assert acme_sso.issuer == idp.url
    assert client.post(f"/admin/jeto_identity/ssoconnection/{acme_sso.pk}/delete/", {"post": "yes"}).status_code == 403


def test_an_idp_asserting_the_owner_does_not_sign_in_as_the_owner(client, acme_sso, acme_owner, idp):
    """Whoever configured the IdP, the owner's account links only after the owner confirms."""
    idp.put_user("attacker-sub", email="olga@acme.test", email_verified=True)
    response = sso_sign_in(client, idp, "olga@acme.test", "attacker-sub")
    assert response.status_code == 302 and response.url == LINK_URL
    assert signed_in_user_id(client) is None
    assert not FederatedIdentity.objects.exists()
    page = client.get(LINK_URL)
    assert page.status_code == 200 and b"olga@acme.test" in page.content
    wrong = client.post(LINK_URL, {"password": "not-the-owners-password"})
    assert wrong.status_code == 400
    assert signed_in_user_id(client) is None
    assert not FederatedIdentity.objects.exists()
    assert client.get("/admin/").status_code == 302  # still anonymous to admin


def test_the_owner_confirms_with_password_and_their_authenticator_then_the_link_exists(
    client, acme_sso, acme_owner, password, idp
):
    device, _ = enrol(acme_owner)
    idp.put_user("olga-sub", email="olga@acme.test", email_verified=True)
    assert sso_sign_in(client, idp, "olga@acme.test", "olga-sub").url == LINK_URL
    response = client.post(LINK_URL, {"password": password})
    assert response.status_code == 302 and response.url == "/login/mfa/"
    assert signed_in_user_id(client) is None
    assert not FederatedIdentity.objects.exists()  # the password alone links nothing
    response = client.post("/login/mfa/", {"code": code_for(device)})
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(acme_owner.pk)
    assert FederatedIdentity.objects.get(connection=acme_sso, subject="olga-sub").user == acme_owner
    assert set(client.session[login_service.AMR_SESSION_KEY]) == {"pwd", "otp", "mfa", "fed"}
    assert Membership.objects.get(user=acme_owner, organization=acme_sso.organization).role == Role.OWNER
    # Linked: the next federated sign-in goes straight through.
    client.post("/logout/")
    assert sso_sign_in(client, idp, "olga@acme.test", "olga-sub").status_code == 302
    assert signed_in_user_id(client) == str(acme_owner.pk)


def test_link_confirmation_works_under_enforced_sso_where_the_password_step_does_not(
    client, acme, acme_sso, acme_admin, password, idp
):
    acme.sso_enforced = True
    acme.save()
    idp.put_user("ada-sub", email="ada@acme.test", email_verified=True)
    assert sso_sign_in(client, idp, "ada@acme.test", "ada-sub").url == LINK_URL
    response = client.post(LINK_URL, {"password": password})
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(acme_admin.pk)
    assert FederatedIdentity.objects.filter(user=acme_admin).exists()
    client.post("/logout/")
    client.post("/login/", {"email": "ada@acme.test"})
    client.get("/login/break-glass/")  # skip the IdP: the password step must still refuse an enforced domain
    client.post("/login/", {"email": "ada@acme.test"})
    assert client.post("/login/password/", {"password": password}).status_code == 403
    assert signed_in_user_id(client) is None


# ---- which accounts link silently, which need confirmation, which never --------------------------------------


def test_a_plain_member_of_the_organisation_links_silently(client, acme_sso, acme_member, idp):
    idp.put_user("max-sub", email="max@acme.test", email_verified=True)
    response = sso_sign_in(client, idp, "max@acme.test", "max-sub")
    assert response.status_code == 302 and response.url != LINK_URL
    assert signed_in_user_id(client) == str(acme_member.pk)


def test_an_account_in_no_organisation_links_and_joins_with_jit(client, acme_sso, make_user, idp):
    user = make_user("loner@acme.test")
    idp.put_user("loner-sub", email="loner@acme.test", email_verified=True)
    assert sso_sign_in(client, idp, "loner@acme.test", "loner-sub").url != LINK_URL
    assert signed_in_user_id(client) == str(user.pk)
    assert Membership.objects.get(user=user).organization == acme_sso.organization


def test_an_account_in_no_organisation_is_refused_without_jit(client, acme, make_user, idp):
    make_connection(acme, idp.url, jit_provisioning=False)
    make_user("loner@acme.test")
    idp.put_user("loner-sub", email="loner@acme.test", email_verified=True)
    response = sso_sign_in(client, idp, "loner@acme.test", "loner-sub")
    assert response.status_code == 403
    assert signed_in_user_id(client) is None and not FederatedIdentity.objects.exists()


def test_an_account_only_in_another_organisation_is_refused_even_in_the_connections_domain(
    client, acme_sso, globex, make_user, idp
):
    user = make_user("contractor@acme.test")
    Membership.objects.create(user=user, organization=globex, role=Role.MEMBER)
    idp.put_user("c-sub", email="contractor@acme.test", email_verified=True)
    response = sso_sign_in(client, idp, "contractor@acme.test", "c-sub")
    assert response.status_code == 403
    assert signed_in_user_id(client) is None
    assert not Membership.objects.filter(user=user, organization=acme_sso.organization).exists()


@pytest.mark.parametrize(
    "setup",
    ["staff_in_none", "admin_here", "member_here_and_elsewhere", "admin_elsewhere_member_here"],
)
def test_powerful_or_shared_accounts_need_confirmation(client, acme, acme_sso, globex, make_user, idp, setup):
    user = make_user("held@acme.test", is_staff=setup == "staff_in_none")
    if setup == "admin_here":
        Membership.objects.create(user=user, organization=acme, role=Role.ADMIN)
    elif setup == "member_here_and_elsewhere":
        Membership.objects.create(user=user, organization=acme, role=Role.MEMBER)
        Membership.objects.create(user=user, organization=globex, role=Role.MEMBER)
    elif setup == "admin_elsewhere_member_here":
        Membership.objects.create(user=user, organization=acme, role=Role.MEMBER)
        Membership.objects.create(user=user, organization=globex, role=Role.ADMIN)
    idp.put_user("held-sub", email="held@acme.test", email_verified=True)
    response = sso_sign_in(client, idp, "held@acme.test", "held-sub")
    assert response.status_code == 302 and response.url == LINK_URL
    assert signed_in_user_id(client) is None
    assert not FederatedIdentity.objects.exists()
    assert AuditEvent.objects.filter(event=audit.SSO_LINK_CONFIRMATION, subject_id=user.pk).exists()


def test_jit_never_takes_over_an_existing_account(client, acme_sso, globex, make_user, idp):
    """Same email, other case: the existing account is found, not duplicated, and the membership rule applies."""
    user = make_user("Existing@Acme.test")
    Membership.objects.create(user=user, organization=globex, role=Role.MEMBER)
    idp.put_user("e-sub", email="EXISTING@acme.test", email_verified=True)
    assert sso_sign_in(client, idp, "existing@acme.test", "e-sub").status_code == 403
    assert type(user).objects.filter(email__iexact="existing@acme.test").count() == 1


# ---- the confirmation page itself ----------------------------------------------------------------------------


def test_confirmation_page_without_a_pending_link_goes_to_login(client, acme_sso):
    assert client.get(LINK_URL).url == "/login/"
    assert client.post(LINK_URL, {"password": "x"}).url == "/login/"


def test_an_expired_confirmation_is_dropped(client, acme_sso, acme_owner, password, idp):
    idp.put_user("olga-sub", email="olga@acme.test", email_verified=True)
    sso_sign_in(client, idp, "olga@acme.test", "olga-sub")
    session = client.session
    session[sso_service.LINK_CONFIRMATION_SESSION_KEY]["at"] = int(time.time()) - 3600
    session.save()
    assert client.post(LINK_URL, {"password": password}).url == "/login/"
    assert signed_in_user_id(client) is None and not FederatedIdentity.objects.exists()


def test_an_account_without_a_password_cannot_confirm(client, acme, acme_sso, make_user, idp):
    user = make_user("nopass@acme.test", password=None)
    Membership.objects.create(user=user, organization=acme, role=Role.ADMIN)
    idp.put_user("np-sub", email="nopass@acme.test", email_verified=True)
    assert sso_sign_in(client, idp, "nopass@acme.test", "np-sub").url == LINK_URL
    page = client.get(LINK_URL)
    assert b'data-testid="link-no-password"' in page.content
    assert client.post(LINK_URL, {"password": ""}).status_code == 403
    assert signed_in_user_id(client) is None


def test_rules_are_checked_again_when_the_link_is_made(client, acme_sso, acme_owner, password, idp):
    """Between the IdP and the second factor the domain lost its verification: nothing is linked, no session."""
    device, _ = enrol(acme_owner)
    idp.put_user("olga-sub", email="olga@acme.test", email_verified=True)
    sso_sign_in(client, idp, "olga@acme.test", "olga-sub")
    assert client.post(LINK_URL, {"password": password}).url == "/login/mfa/"
    OrganizationDomain.objects.filter(domain="acme.test").update(verified=False)
    response = client.post("/login/mfa/", {"code": code_for(device)})
    assert response.status_code == 302 and response.url == LINK_URL
    assert signed_in_user_id(client) is None
    assert not FederatedIdentity.objects.exists()
    page = client.get(LINK_URL)
    assert page.status_code == 403 and b"Acme&#x27;s domains" in page.content


def test_a_normal_password_sign_in_does_not_consume_an_unconfirmed_link(
    client, acme_sso, acme_owner, password, idp, settings
):
    """The link is made only after the confirmation page took the password, not by any later sign-in."""
    idp.put_user("olga-sub", email="olga@acme.test", email_verified=True)
    sso_sign_in(client, idp, "olga@acme.test", "olga-sub")
    client.get("/login/break-glass/")
    client.post("/login/", {"email": "olga@acme.test"})
    assert client.post("/login/password/", {"password": password}).status_code == 302
    assert signed_in_user_id(client) == str(acme_owner.pk)
    assert not FederatedIdentity.objects.exists()


# ---- repointing a connection drops its links -----------------------------------------------------------------


def test_changing_the_issuer_in_admin_drops_links_so_a_new_idp_cannot_reuse_a_sub(
    client, acme, acme_sso, acme_owner, acme_member, idp, strict_idp
):
    FederatedIdentity.objects.create(connection=acme_sso, subject="olga-sub", user=acme_owner)
    FederatedIdentity.objects.create(connection=acme_sso, subject="max-sub", user=acme_member)
    client.force_login(acme_owner)
    response = client.post(
        f"/admin/jeto_identity/ssoconnection/{acme_sso.pk}/change/",
        {
            "name": acme_sso.name,
            "enabled": "on",
            "issuer": strict_idp.url,
            "client_id": acme_sso.client_id,
            "scopes": acme_sso.scopes,
            "jit_provisioning": "on",
            "default_role": "member",
            "email_verified_claim": "email_verified",
            "role_claim": "",
            "role_mapping": "{}",
        },
    )
    assert response.status_code == 302, response.content
    assert not FederatedIdentity.objects.filter(connection=acme_sso).exists()
    event = AuditEvent.objects.get(event=audit.SSO_LINKS_RESET)
    assert event.details["count"] == 2 and event.details["fields"] == ["issuer"]
    changed = AuditEvent.objects.get(event=audit.SSO_CONNECTION_CHANGED, details__reason="changed")
    assert changed.actor_id == acme_owner.pk and "issuer" in changed.details["fields"]


def test_renaming_a_connection_keeps_its_links(acme_sso, acme_member):
    FederatedIdentity.objects.create(connection=acme_sso, subject="max-sub", user=acme_member)
    acme_sso.name = "Okta (new name)"
    acme_sso.save()
    assert FederatedIdentity.objects.filter(connection=acme_sso).count() == 1
    acme_sso.client_id = "another-client"
    acme_sso.save()
    assert not FederatedIdentity.objects.filter(connection=acme_sso).exists()


def test_an_owner_cannot_move_a_connection_to_another_organisation(client, acme, globex, acme_owner, acme_sso, idp):
    Membership.objects.create(user=acme_owner, organization=globex, role=Role.OWNER)
    client.force_login(acme_owner)
    page = client.get(f"/admin/jeto_identity/ssoconnection/{acme_sso.pk}/change/")
    assert b'name="organization"' not in page.content
    add = client.get("/admin/jeto_identity/ssoconnection/add/")
    assert b'name="organization"' in add.content


def test_an_owner_of_one_org_and_admin_of_another_may_only_add_for_the_owned_one(client, acme, globex, acme_owner, idp):
    Membership.objects.create(user=acme_owner, organization=globex, role=Role.ADMIN)
    client.force_login(acme_owner)
    form = client.get("/admin/jeto_identity/ssoconnection/add/").context["adminform"].form
    assert list(form.fields["organization"].queryset) == [acme]


# ---- an IdP answers for its own organisation's MFA policy only ---------------------------------------------------


def test_an_idp_stands_in_for_our_second_factor_only_for_people_in_its_organisation_alone(
    client, acme_sso, globex, make_user, idp
):
    """Acme's IdP answers for Acme: a person also in Globex gives their own second factor after it."""
    user = make_user("both@acme.test")
    Membership.objects.create(user=user, organization=acme_sso.organization, role=Role.MEMBER)
    FederatedIdentity.objects.create(connection=acme_sso, subject="both-sub", user=user)  # linked (confirmed) earlier
    device, _ = enrol(user)
    idp.put_user("both-sub", email="both@acme.test", email_verified=True)
    assert sso_sign_in(client, idp, "both@acme.test", "both-sub").url == "/account/"  # Acme alone: IdP trusted
    client.post("/logout/")
    Membership.objects.create(user=user, organization=globex, role=Role.MEMBER)
    response = sso_sign_in(client, idp, "both@acme.test", "both-sub")
    assert response.url == "/login/mfa/"  # Acme's IdP doesn't answer for Globex
    assert signed_in_user_id(client) is None
    assert client.post("/login/mfa/", {"code": code_for(device)}).status_code == 302
    assert signed_in_user_id(client) == str(user.pk)
    assert client.get("/account/").status_code == 200  # the policy middleware lets the verified session through


def test_an_idp_cannot_reach_another_organisations_admin_pages_without_the_persons_factor(
    client, acme_sso, globex, make_user, idp, settings
):
    """Staff admin of Globex, member of Acme, linked to Acme's IdP: Acme's IdP operator signs in as them."""
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "ADMIN_REQUIRES_MFA": True}
    user = make_user("dual@acme.test", is_staff=True)
    Membership.objects.create(user=user, organization=acme_sso.organization, role=Role.MEMBER)
    Membership.objects.create(user=user, organization=globex, role=Role.ADMIN)
    FederatedIdentity.objects.create(connection=acme_sso, subject="dual-sub", user=user)
    idp.put_user("dual-sub", email="dual@acme.test", email_verified=True)
    sso_sign_in(client, idp, "dual@acme.test", "dual-sub")
    # Signed in (no factor enrolled, no policy requires one at sign-in), but Globex's admin is behind MFA.
    response = client.get("/admin/jeto_identity/organization/")
    assert response.status_code == 302 and response.url.startswith("/account/mfa/setup/")
    client.post("/logout/")
    device, _ = enrol(user)
    response = sso_sign_in(client, idp, "dual@acme.test", "dual-sub")
    assert response.url == "/login/mfa/" and signed_in_user_id(client) is None


def test_a_session_exempted_by_the_idp_is_stopped_when_another_organisation_turns_mfa_on(
    client, acme_sso, globex, make_user, idp
):
    user = make_user("both@acme.test")
    Membership.objects.create(user=user, organization=acme_sso.organization, role=Role.MEMBER)
    Membership.objects.create(user=user, organization=globex, role=Role.MEMBER)
    FederatedIdentity.objects.create(connection=acme_sso, subject="both-sub", user=user)
    idp.put_user("both-sub", email="both@acme.test", email_verified=True)
    sso_sign_in(client, idp, "both@acme.test", "both-sub")
    assert client.get("/account/").status_code == 200
    globex.mfa_required = True
    globex.save()
    response = client.get("/account/")
    assert response.status_code == 302 and response.url.startswith("/account/mfa/setup/")


# ---- the pending link is bound to the IdP that asked for it ------------------------------------------------------


def test_a_connection_repointed_during_confirmation_links_nothing(client, acme_sso, acme_owner, password, idp):
    idp.put_user("olga-sub", email="olga@acme.test", email_verified=True)
    assert sso_sign_in(client, idp, "olga@acme.test", "olga-sub").url == LINK_URL
    acme_sso.client_id = "another-client-at-another-idp"
    acme_sso.save()
    assert client.post(LINK_URL, {"password": password}).url == "/login/"
    assert signed_in_user_id(client) is None
    assert not FederatedIdentity.objects.exists()


def test_an_adapter_can_never_make_an_idp_grant_the_owner_role(client, acme, acme_sso, idp, settings):
    adapter = f"{__name__}.OwnerMaker"
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "ADAPTER": adapter}
    idp.put_user("new-sub", email="newbie@acme.test", email_verified=True)
    response = sso_sign_in(client, idp, "newbie@acme.test", "new-sub")
    assert response.status_code == 403
    assert not Membership.objects.filter(user__email="newbie@acme.test").exists()
    assert signed_in_user_id(client) is None


class OwnerMaker(DefaultAdapter):
    def map_role(self, connection, claims):
        return Role.OWNER


# ---- unlinking is managing the account ---------------------------------------------------------------------------


def test_an_admin_cannot_unlink_the_owner_but_can_unlink_a_member(
    client, acme_sso, acme_admin, acme_owner, acme_member
):
    owner_link = FederatedIdentity.objects.create(connection=acme_sso, subject="o", user=acme_owner)
    member_link = FederatedIdentity.objects.create(connection=acme_sso, subject="m", user=acme_member)
    client.force_login(acme_admin)
    base = "/admin/jeto_identity/federatedidentity/"
    assert client.post(f"{base}{owner_link.pk}/delete/", {"post": "yes"}).status_code == 403
    bulk = client.post(
        base, {"action": "delete_selected", "_selected_action": [owner_link.pk, member_link.pk], "post": "yes"}
    )
    assert bulk.status_code == 403
    assert FederatedIdentity.objects.count() == 2
    assert client.post(f"{base}{member_link.pk}/delete/", {"post": "yes"}).status_code == 302
    assert list(FederatedIdentity.objects.all()) == [owner_link]
