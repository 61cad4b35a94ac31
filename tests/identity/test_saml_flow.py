"""SAML sign-in journeys through the real views, against pysaml2's IdP side with its own keys."""

from __future__ import annotations

import datetime
import time

import pytest
from django.contrib.auth import SESSION_KEY
from django.utils import timezone

from jeto_identity.audit import services as audit
from jeto_identity.login import services as login_service
from jeto_identity.models import AuditEvent, FederatedIdentity, Membership, Role, SAMLConnection, User
from jeto_identity.sso import http
from jeto_identity.sso import services as sso_service
from jeto_identity.sso.saml import metadata
from tests.conftest import PASSWORD
from tests.identity.mfa_support import code_for, enrol
from tests.saml_support import SAMLJourney, TestIdP, make_saml_connection

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sso_env")]


@pytest.fixture
def acme_saml(acme, saml_idp):
    return make_saml_connection(acme, saml_idp)


@pytest.fixture
def journey(client, saml_idp, acme_saml):
    return SAMLJourney(client, saml_idp, acme_saml)


def test_first_sign_in_creates_the_account_with_jit(client, journey, acme):
    response = journey.sign_in("new@acme.test", "okta-00u1")
    assert response.status_code == 302, response.content
    user = User.objects.get(email="new@acme.test")
    assert client.session.get(SESSION_KEY) == str(user.pk)
    assert FederatedIdentity.objects.get(user=user).subject == "okta-00u1"
    assert Membership.objects.filter(user=user, organization=acme).exists()
    assert (user.first_name, user.last_name) == ("Sam", "Lee")


def test_a_returning_person_signs_in_to_the_same_account(client, journey):
    assert journey.sign_in("new@acme.test", "okta-00u1").status_code == 302
    client.logout()
    assert journey.sign_in("new@acme.test", "okta-00u1").status_code == 302
    assert User.objects.filter(email="new@acme.test").count() == 1
    assert FederatedIdentity.objects.count() == 1
    assert FederatedIdentity.objects.get().last_login_at is not None


def test_the_link_is_keyed_on_the_nameid_not_the_email(client, journey, acme_member):
    """Someone whose email changed at the IdP still signs in to the account linked to their NameID."""
    assert journey.sign_in("max@acme.test", "okta-00u-max").status_code == 302
    client.logout()
    response = journey.sign_in("max@acme.test", "okta-00u-max", attributes={"mail": ["maxine@acme.test"]})
    assert response.status_code == 302
    assert client.session.get(SESSION_KEY) == str(acme_member.pk)


def test_an_existing_member_is_linked(client, journey, acme_member):
    assert journey.sign_in("max@acme.test", "okta-00u-max").status_code == 302
    assert client.session.get(SESSION_KEY) == str(acme_member.pk)
    assert FederatedIdentity.objects.get().user == acme_member


def test_without_trusted_emails_an_existing_account_is_not_linked(client, journey, acme_saml, acme_member):
    acme_saml.saml_trust_email = False
    acme_saml.save()
    response = journey.sign_in("max@acme.test", "okta-00u-max")
    assert response.status_code == 403
    assert b"hasn" in response.content and b"verified" in response.content
    assert client.session.get(SESSION_KEY) is None
    event = AuditEvent.objects.filter(event=audit.SSO_SIGN_IN, outcome="denied").latest("pk")
    assert event.details["reason"] == "email_unverified"


def test_a_foreign_domain_is_refused(client, journey, globex_member):
    response = journey.sign_in("max@acme.test", "okta-00u-gus", attributes={"mail": ["gus@globex.test"]})
    assert response.status_code == 403
    assert client.session.get(SESSION_KEY) is None
    assert not FederatedIdentity.objects.exists()
    event = AuditEvent.objects.filter(event=audit.SSO_SIGN_IN, outcome="denied").latest("pk")
    assert event.details["reason"] == "foreign_domain"


def test_without_jit_an_unknown_person_is_refused(client, journey, acme_saml):
    acme_saml.jit_provisioning = False
    acme_saml.save()
    assert journey.sign_in("new@acme.test", "okta-00u1").status_code == 403
    assert not User.objects.filter(email="new@acme.test").exists()


def test_no_email_attribute_is_refused_with_a_clear_page(client, journey):
    response = journey.sign_in("new@acme.test", "opaque-id", attributes={"givenName": ["Sam"]})
    assert response.status_code == 403
    assert b"email" in response.content


def test_a_persistent_nameid_shaped_like_an_email_is_not_taken_as_the_email(client, journey):
    response = journey.sign_in("x@acme.test", "new@acme.test", attributes={"givenName": ["Sam"]})
    assert response.status_code == 403


def test_a_custom_attribute_mapping_is_used(client, journey, acme_saml):
    acme_saml.saml_attribute_mapping = {"email": "workEmail", "given_name": ["preferredName"]}
    acme_saml.save()
    attributes = {"workEmail": ["new@acme.test"], "preferredName": ["Sammy"], "mail": ["wrong@acme.test"]}
    assert journey.sign_in("new@acme.test", "okta-00u1", attributes=attributes).status_code == 302
    assert User.objects.get(email="new@acme.test").first_name == "Sammy"
    assert not User.objects.filter(email="wrong@acme.test").exists()


def test_groups_map_to_a_role(client, journey, acme_saml, acme):
    acme_saml.role_claim = "groups"
    acme_saml.role_mapping = {"jeto-admins": "admin"}
    acme_saml.save()
    attributes = {"mail": ["new@acme.test"], "memberOf": ["staff", "jeto-admins"]}
    assert journey.sign_in("new@acme.test", "okta-00u1", attributes=attributes).status_code == 302
    assert Membership.objects.get(user__email="new@acme.test", organization=acme).role == Role.ADMIN


def test_sign_in_records_fed_in_the_session_amr_and_an_audit_event(client, journey, acme_member):
    assert journey.sign_in("max@acme.test", "okta-00u-max").status_code == 302
    assert client.session[login_service.AMR_SESSION_KEY] == ["fed"]
    assert AuditEvent.objects.filter(event=audit.SSO_SIGN_IN, outcome="success", subject_id=str(acme_member.pk))


def test_mfa_after_sso_asks_for_our_second_factor(client, journey, acme, acme_member):
    acme.mfa_after_sso = True
    acme.save()
    device, _ = enrol(acme_member)
    response = journey.sign_in("max@acme.test", "okta-00u-max")
    assert response.status_code == 302 and response.url == "/login/mfa/"
    assert client.session.get(SESSION_KEY) is None
    assert client.post("/login/mfa/", {"code": code_for(device)}).status_code == 302
    assert client.session[login_service.AMR_SESSION_KEY] == ["fed", "otp", "mfa"]


def test_enforced_sso_routes_to_the_saml_idp_and_refuses_the_password(client, journey, acme, acme_saml, acme_member):
    acme.sso_enforced = True
    acme.save()
    assert client.post("/login/", {"email": "max@acme.test"}).url == f"/sso/{acme_saml.public_id}/saml/start/"
    session = client.session
    session[login_service.PENDING_KEY] = {"email": "max@acme.test", "next_url": "", "user_id": None, "amr": []}
    session.save()
    refused = client.post("/login/password/", {"password": PASSWORD})
    assert refused.status_code == 403 and client.session.get(SESSION_KEY) is None
    assert journey.sign_in("max@acme.test", "okta-00u-max").status_code == 302
    assert client.session.get(SESSION_KEY) == str(acme_member.pk)


def test_next_url_is_kept_through_the_idp(client, journey, acme_member):
    request = journey.start("max@acme.test", next_url="/account/security/")
    response = journey.post(journey.answer(request, "okta-00u-max", "max@acme.test"))
    assert response.url == "/account/security/"


def test_idp_initiated_sign_in_when_switched_on_lands_on_the_default_page(client, journey, acme_saml, acme_member):
    acme_saml.saml_allow_idp_initiated = True
    acme_saml.save()
    response = journey.post(journey.answer(None, "okta-00u-max", "max@acme.test"))
    assert response.status_code == 302 and response.url == "/account/"
    assert client.session.get(SESSION_KEY) == str(acme_member.pk)


def test_a_platform_superuser_is_never_signed_in_through_saml(client, journey, make_user):
    make_user("root@acme.test", is_superuser=True, is_staff=True)
    assert journey.sign_in("root@acme.test", "okta-root").status_code == 403
    assert client.session.get(SESSION_KEY) is None


def test_a_cross_site_post_without_our_cookie_gets_a_self_posting_page(journey):
    """The IdP's POST arrives without our SameSite=Lax cookie: a page re-posts it from our origin, no inline script."""
    from django.test import Client

    browser = Client()
    page = browser.post(f"/sso/{journey.connection.public_id}/saml/acs/", {"SAMLResponse": "abc+/=", "RelayState": "x"})
    assert page.status_code == 200
    assert b'name="SAMLResponse" value="abc+/="' in page.content
    assert b"data-autosubmit" in page.content and b"autosubmit.js" in page.content
    assert b"<script>" not in page.content
    assert not AuditEvent.objects.filter(event=audit.SSO_SIGN_IN).exists()  # nothing consumed yet


def test_sp_metadata_names_our_entity_id_acs_and_certificate(client, acme_saml):
    response = client.get(f"/sso/{acme_saml.public_id}/saml/metadata/?download=1")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/samlmetadata+xml")
    assert "attachment" in response["Content-Disposition"]
    body = response.content.decode()
    assert f'entityID="http://testserver/sso/{acme_saml.public_id}/saml/metadata/"' in body
    assert f"http://testserver/sso/{acme_saml.public_id}/saml/acs/" in body
    assert "".join(acme_saml.saml_sp_certificate.splitlines()[1:-1]) in body
    assert "PRIVATE" not in body


def test_a_disabled_connection_does_not_start_or_consume(client, journey, acme_saml):
    acme_saml.enabled = False
    acme_saml.save()
    assert client.get(f"/sso/{acme_saml.public_id}/saml/start/").status_code == 404
    assert client.post(f"/sso/{acme_saml.public_id}/saml/acs/", {"SAMLResponse": "x"}).status_code == 404


def test_the_oidc_start_url_does_not_serve_a_saml_connection(client, acme_saml):
    assert client.get(f"/sso/{acme_saml.public_id}/start/").status_code == 404


def test_routing_is_decided_in_one_place(client, journey, acme_saml, monkeypatch):
    """Issue 15 gates SSO per plan in ``connection_may_route``: when it says no, nothing routes or consumes."""
    monkeypatch.setattr(sso_service, "connection_may_route", lambda connection: False)
    assert client.post("/login/", {"email": "max@acme.test"}).url == "/login/password/"
    assert client.get(f"/sso/{acme_saml.public_id}/saml/start/").status_code == 404
    assert client.post(f"/sso/{acme_saml.public_id}/saml/acs/", {"SAMLResponse": "x"}).status_code == 404


def test_a_plan_without_sso_stops_saml_routing_and_consuming_and_takes_it_back(client, journey, acme, acme_saml):
    from jeto_identity.orgadmin import plans

    plans.set_feature(acme, plans.SSO, False)  # a platform admin takes SSO out of Acme's plan
    assert client.post("/login/", {"email": "max@acme.test"}).url == "/login/password/"
    assert client.get(f"/sso/{acme_saml.public_id}/saml/start/").status_code == 404
    assert client.post(f"/sso/{acme_saml.public_id}/saml/acs/", {"SAMLResponse": "x"}).status_code == 404
    assert SAMLConnection.objects.filter(pk=acme_saml.pk, enabled=True).exists()  # nothing deleted or disabled
    plans.set_feature(acme, plans.SSO, True)
    assert client.get(f"/sso/{acme_saml.public_id}/saml/start/").status_code == 302


# ---- metadata by URL: refresh, rollover, IdP down ---------------------------------------------------------------


def test_stale_metadata_is_refreshed_and_a_rolled_over_certificate_is_trusted(
    client, acme, saml_idp, metadata_server, tmp_path, acme_member, settings
):
    """The IdP publishes a new key; once our copy is older than the cache time we fetch it and accept its
    signatures."""
    metadata_server.documents["/md"] = saml_idp.metadata_xml().encode()
    connection = make_saml_connection(acme, saml_idp, saml_metadata_url=metadata_server.url + "/md")
    metadata.refresh(connection)
    rolled = TestIdP(tmp_path, name="rolled")  # same entity ID, new key
    metadata_server.documents["/md"] = rolled.metadata_xml().encode()
    journey = SAMLJourney(client, rolled, connection)
    assert journey.sign_in("max@acme.test", "okta-00u-max").status_code == 400  # our copy is fresh: old key only
    client.logout()
    SAMLConnection.objects.filter(pk=connection.pk).update(
        saml_metadata_fetched_at=timezone.now()
        - datetime.timedelta(seconds=settings.JETO_IDENTITY.get("SSO_METADATA_CACHE_SECONDS", 3600) + 1)
    )
    journey.connection = SAMLConnection.objects.get(pk=connection.pk)
    assert journey.sign_in("max@acme.test", "okta-00u-max").status_code == 302
    assert rolled.cert_pem.splitlines()[1] in SAMLConnection.objects.get(pk=connection.pk).saml_metadata_xml


def test_a_refresh_naming_another_entity_id_is_not_applied(acme, saml_idp, metadata_server, tmp_path):
    metadata_server.documents["/md"] = saml_idp.metadata_xml().encode()
    connection = make_saml_connection(acme, saml_idp, saml_metadata_url=metadata_server.url + "/md")
    other = TestIdP(tmp_path, name="other", entity_id="https://evil.example.test/idp")
    metadata_server.documents["/md"] = other.metadata_xml().encode()
    with pytest.raises(http.IdPError, match="not applied"):
        metadata.refresh(connection)
    connection.refresh_from_db()
    assert connection.saml_idp_entity_id == saml_idp.entity_id
    assert "evil.example.test" not in connection.saml_metadata_xml


def test_idp_down_at_refresh_keeps_the_last_metadata_and_the_sign_in_goes_on(
    client, acme, saml_idp, black_hole, settings, acme_member
):
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "SSO_HTTP_TIMEOUT": 0.5}
    connection = make_saml_connection(acme, saml_idp, saml_metadata_url=f"http://127.0.0.1:{black_hole}/md")
    journey = SAMLJourney(client, saml_idp, connection)
    began = time.monotonic()
    assert journey.sign_in("max@acme.test", "okta-00u-max").status_code == 302
    assert time.monotonic() - began < 15
    assert client.session.get(SESSION_KEY) == str(acme_member.pk)


def test_idp_down_without_any_metadata_yet_gives_a_clear_page_within_the_timeout(
    client, acme, black_hole, settings, acme_member
):
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "SSO_HTTP_TIMEOUT": 0.5}
    connection = SAMLConnection(organization=acme, name="Down", enabled=True)
    connection.saml_metadata_url = f"http://127.0.0.1:{black_hole}/md"
    connection.save()
    client.post("/login/", {"email": "max@acme.test"})
    began = time.monotonic()
    response = client.get(f"/sso/{connection.public_id}/saml/start/")
    assert time.monotonic() - began < 10
    assert response.status_code == 502 and b"isn&#x27;t responding" in response.content


def test_misconfigured_connection_gives_a_clear_502_page(client, acme, saml_idp, acme_member):
    connection = make_saml_connection(acme, saml_idp)
    SAMLConnection.objects.filter(pk=connection.pk).update(saml_metadata_xml="<not-metadata/>")
    client.post("/login/", {"email": "max@acme.test"})
    response = client.get(f"/sso/{connection.public_id}/saml/start/")
    assert response.status_code == 502
    assert b"misconfigured" in response.content
