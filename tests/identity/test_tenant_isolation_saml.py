"""A SAML IdP never signs in as someone outside its organisation's trust: the rules of
test_tenant_isolation_sso.py, through a SAML connection (the rules are shared in ``sso.services``)."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY

from jeto_identity.audit import services as audit
from jeto_identity.models import AuditEvent, FederatedIdentity, Membership, OrganizationDomain, Role, SAMLConnection
from tests.identity.mfa_support import code_for, enrol
from tests.saml_support import SAMLJourney, TestIdP, make_saml_connection

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sso_env")]

LINK_URL = "/sso/link/"
ADMIN = "/admin/jeto_identity/samlconnection/"


@pytest.fixture
def acme_saml(acme, saml_idp):
    return make_saml_connection(acme, saml_idp)


@pytest.fixture
def journey(client, saml_idp, acme_saml):
    return SAMLJourney(client, saml_idp, acme_saml)


def form_data(connection, **changes) -> dict:
    data = {
        "organization": connection.organization_id,
        "name": connection.name,
        "enabled": "on" if connection.enabled else "",
        "saml_metadata_url": connection.saml_metadata_url,
        "saml_metadata_xml": connection.saml_metadata_xml,
        "saml_idp_entity_id": connection.saml_idp_entity_id,
        "saml_idp_sso_url": connection.saml_idp_sso_url,
        "saml_idp_certificates": connection.saml_idp_certificates,
        "saml_sign_requests": "on",
        "saml_nameid_format": connection.saml_nameid_format,
        "saml_attribute_mapping": "{}",
        "saml_trust_email": "on",
        "jit_provisioning": "on",
        "default_role": "member",
        "role_claim": "",
        "role_mapping": "{}",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


def test_an_idp_asserting_the_owner_does_not_sign_in_as_the_owner(client, journey, acme_owner, password):
    response = journey.sign_in("olga@acme.test", "attacker-nameid")
    assert response.status_code == 302 and response.url == LINK_URL
    assert client.session.get(SESSION_KEY) is None
    assert not FederatedIdentity.objects.exists()
    assert client.post(LINK_URL, {"password": "not-the-owners-password"}).status_code == 400
    assert client.session.get(SESSION_KEY) is None
    assert not FederatedIdentity.objects.exists()


def test_the_owner_confirms_with_password_and_second_factor_then_the_link_exists(client, journey, acme_owner, password):
    device, _ = enrol(acme_owner)
    assert journey.sign_in("olga@acme.test", "olga-nameid").url == LINK_URL
    assert client.post(LINK_URL, {"password": password}).url == "/login/mfa/"
    assert not FederatedIdentity.objects.exists()
    assert client.post("/login/mfa/", {"code": code_for(device)}).status_code == 302
    assert client.session.get(SESSION_KEY) == str(acme_owner.pk)
    link = FederatedIdentity.objects.get(user=acme_owner)
    assert link.subject == "olga-nameid" and link.connection_id == journey.connection.pk


@pytest.mark.parametrize("setup", ["staff_in_none", "admin_here", "member_here_and_elsewhere"])
def test_powerful_or_shared_accounts_need_confirmation(client, journey, acme, globex, make_user, setup):
    user = make_user("held@acme.test", is_staff=setup == "staff_in_none")
    if setup == "admin_here":
        Membership.objects.create(user=user, organization=acme, role=Role.ADMIN)
    elif setup == "member_here_and_elsewhere":
        Membership.objects.create(user=user, organization=acme, role=Role.MEMBER)
        Membership.objects.create(user=user, organization=globex, role=Role.MEMBER)
    assert journey.sign_in("held@acme.test", "held-nameid").url == LINK_URL
    assert client.session.get(SESSION_KEY) is None and not FederatedIdentity.objects.exists()
    assert AuditEvent.objects.filter(event=audit.SSO_LINK_CONFIRMATION, subject_id=user.pk).exists()


def test_an_account_only_in_another_organisation_is_refused(client, journey, globex, make_user):
    user = make_user("contractor@acme.test")
    Membership.objects.create(user=user, organization=globex, role=Role.MEMBER)
    response = journey.sign_in("contractor@acme.test", "c-nameid")
    assert response.status_code == 403 and b"belongs to another organisation" in response.content
    assert not Membership.objects.filter(user=user, organization=journey.connection.organization).exists()
    assert AuditEvent.objects.filter(event=audit.SSO_SIGN_IN, outcome="denied", details__reason="other_organization")


def test_a_verified_domain_of_another_organisation_is_refused(client, journey, globex_admin):
    """Acme's IdP asserts Globex's owner: the email is not in Acme's verified domains."""
    response = journey.sign_in("max@acme.test", "x", attributes={"mail": ["gina@globex.test"]})
    assert response.status_code == 403
    assert client.session.get(SESSION_KEY) is None
    assert not FederatedIdentity.objects.filter(user=globex_admin).exists()


def test_a_link_stops_working_when_the_domain_is_no_longer_verified(client, journey, acme_saml, acme_member):
    assert journey.sign_in("max@acme.test", "max-nameid").status_code == 302
    client.logout()
    OrganizationDomain.objects.filter(domain="acme.test").update(verified=False)
    acme_saml.saml_allow_idp_initiated = True  # the email step no longer routes there: come from the IdP
    acme_saml.save()
    response = journey.post(journey.answer(None, "max-nameid", "max@acme.test"))
    assert response.status_code == 403
    assert client.session.get(SESSION_KEY) is None
    assert AuditEvent.objects.filter(event=audit.SSO_SIGN_IN, outcome="denied", details__reason="foreign_domain")


# ---- configuring SAML is an owner's power --------------------------------------------------------------------


def test_an_admin_cannot_add_a_saml_connection(client, acme, acme_admin, saml_idp):
    client.force_login(acme_admin)
    assert client.get(f"{ADMIN}add/").status_code == 403
    data = {"organization": acme.pk, "name": "Mine", "saml_metadata_xml": saml_idp.metadata_xml()}
    assert client.post(f"{ADMIN}add/", data).status_code == 403
    assert not SAMLConnection.objects.exists()


def test_an_admin_sees_the_connection_read_only_and_cannot_repoint_it(client, acme_admin, acme_saml, tmp_path):
    client.force_login(acme_admin)
    page = client.get(f"{ADMIN}{acme_saml.pk}/change/")
    assert page.status_code == 200 and b'name="saml_metadata_xml"' not in page.content
    evil = TestIdP(tmp_path, name="evil", entity_id="https://evil.example.test/idp")
    response = client.post(
        f"{ADMIN}{acme_saml.pk}/change/", form_data(acme_saml, saml_metadata_xml=evil.metadata_xml())
    )
    assert response.status_code == 403
    acme_saml.refresh_from_db()
    assert "evil.example.test" not in acme_saml.saml_idp_entity_id
    assert client.post(f"{ADMIN}{acme_saml.pk}/delete/", {"post": "yes"}).status_code == 403


def test_another_organisations_owner_cannot_see_the_connection(client, globex_admin, acme_saml):
    client.force_login(globex_admin)
    assert client.get(f"{ADMIN}{acme_saml.pk}/change/").status_code == 404
    assert acme_saml.name.encode() not in client.get(ADMIN).content


def test_an_owner_cannot_move_the_connection_to_another_organisation(client, acme, globex, acme_owner, acme_saml):
    Membership.objects.create(user=acme_owner, organization=globex, role=Role.OWNER)
    client.force_login(acme_owner)
    response = client.post(f"{ADMIN}{acme_saml.pk}/change/", form_data(acme_saml, organization=globex.pk))
    assert response.status_code == 302, response.content
    acme_saml.refresh_from_db()
    assert acme_saml.organization_id == acme.pk


def test_an_owner_may_only_add_for_an_organisation_they_own(client, acme, globex, acme_owner, saml_idp):
    Membership.objects.create(user=acme_owner, organization=globex, role=Role.ADMIN)
    client.force_login(acme_owner)
    data = {"name": "Sneaky", "organization": globex.pk, "saml_metadata_xml": saml_idp.metadata_xml()}
    data.update(
        {"saml_nameid_format": "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent", "default_role": "member"}
    )
    response = client.post(f"{ADMIN}add/", data)
    assert response.status_code == 200  # the form refuses the organisation
    assert not SAMLConnection.objects.exists()


# ---- repointing drops links ------------------------------------------------------------------------------------


def test_pointing_the_connection_at_another_idp_drops_its_links(client, acme_owner, acme_saml, acme_member, tmp_path):
    FederatedIdentity.objects.create(connection=acme_saml, subject="max-nameid", user=acme_member)
    other = TestIdP(tmp_path, name="other", entity_id="https://other-idp.example.test/idp")
    client.force_login(acme_owner)
    response = client.post(
        f"{ADMIN}{acme_saml.pk}/change/", form_data(acme_saml, saml_metadata_xml=other.metadata_xml())
    )
    assert response.status_code == 302, response.content
    acme_saml.refresh_from_db()
    assert acme_saml.saml_idp_entity_id == "https://other-idp.example.test/idp"
    assert not FederatedIdentity.objects.filter(connection=acme_saml).exists()
    event = AuditEvent.objects.get(event=audit.SSO_LINKS_RESET)
    assert event.details["fields"] == ["saml_idp_entity_id"]


def test_a_new_certificate_for_the_same_idp_keeps_the_links(client, acme_owner, acme_saml, acme_member, tmp_path):
    FederatedIdentity.objects.create(connection=acme_saml, subject="max-nameid", user=acme_member)
    rolled = TestIdP(tmp_path, name="rolled")  # same entity ID, new key
    client.force_login(acme_owner)
    response = client.post(
        f"{ADMIN}{acme_saml.pk}/change/", form_data(acme_saml, saml_metadata_xml=rolled.metadata_xml())
    )
    assert response.status_code == 302, response.content
    assert FederatedIdentity.objects.filter(connection=acme_saml).count() == 1


def test_a_platform_admin_moving_the_connection_drops_its_links(acme_saml, globex, acme_member):
    FederatedIdentity.objects.create(connection=acme_saml, subject="max-nameid", user=acme_member)
    acme_saml.organization = globex
    acme_saml.save()
    assert not FederatedIdentity.objects.filter(connection=acme_saml).exists()


def test_a_connection_repointed_during_confirmation_links_nothing(client, journey, acme_saml, acme_owner, password):
    assert journey.sign_in("olga@acme.test", "olga-nameid").url == LINK_URL
    acme_saml.saml_idp_entity_id = "https://other-idp.example.test/idp"
    acme_saml.save()
    assert client.post(LINK_URL, {"password": password}).url == "/login/"
    assert client.session.get(SESSION_KEY) is None
    assert not FederatedIdentity.objects.exists()
