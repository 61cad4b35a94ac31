"""SAML connections in Django admin: metadata by URL, paste, upload or by hand; our SP values shown before saving
and downloadable; "Test connection"; bad input a form error, never a 500."""

from __future__ import annotations

import re
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from jeto_identity.core import crypto
from jeto_identity.models import SAMLConnection, SSOConnection
from tests.saml_support import IDP_ENTITY_ID, IDP_SSO_URL, make_saml_connection
from tests.sso_support import make_connection

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sso_env")]

ADMIN = "/admin/jeto_identity/samlconnection/"
ADD_URL = ADMIN + "add/"
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"


def form_data(org, **extra) -> dict:
    data = {
        "organization": org.pk,
        "name": "Entra ID",
        "enabled": "on",
        "saml_sign_requests": "on",
        "saml_nameid_format": PERSISTENT,
        "saml_attribute_mapping": "{}",
        "saml_trust_email": "on",
        "jit_provisioning": "on",
        "default_role": "member",
        "role_claim": "",
        "role_mapping": "{}",
    }
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def test_owner_adds_a_connection_from_pasted_metadata_with_our_values_shown_before_saving(
    client, acme_owner, acme, saml_idp
):
    client.force_login(acme_owner)
    page = client.get(ADD_URL)
    assert page.status_code == 200
    connection_id = re.search(rb'name="connection_id" value="([^"]+)"', page.content).group(1).decode()
    entity = re.search(rb'data-testid="saml-sp-entity-id">([^<]+)<', page.content).group(1).decode()
    acs = re.search(rb'data-testid="saml-sp-acs-url">([^<]+)<', page.content).group(1).decode()
    assert entity == f"http://testserver/sso/{connection_id}/saml/metadata/"
    assert acs == f"http://testserver/sso/{connection_id}/saml/acs/"
    response = client.post(
        ADD_URL, form_data(acme, saml_metadata_xml=saml_idp.metadata_xml(), connection_id=connection_id)
    )
    assert response.status_code == 302, response.content
    connection = SAMLConnection.objects.get()
    assert str(connection.public_id) == connection_id and connection.organization == acme
    assert connection.saml_idp_entity_id == IDP_ENTITY_ID
    assert connection.protocol == "saml"
    assert "PRIVATE KEY" not in connection.saml_sp_key_encrypted
    assert "PRIVATE KEY" in crypto.decrypt(connection.saml_sp_key_encrypted)
    page = client.get(f"{ADMIN}{connection.pk}/change/").content.decode()
    assert entity in page and acs in page
    assert connection.saml_sp_certificate.splitlines()[1] in page
    assert "saml-sp-metadata-download" in page
    assert "PRIVATE KEY" not in page


def test_owner_configures_the_idp_by_hand(client, acme_owner, acme, saml_idp):
    client.force_login(acme_owner)
    data = form_data(
        acme,
        saml_idp_entity_id=IDP_ENTITY_ID,
        saml_idp_sso_url=IDP_SSO_URL,
        saml_idp_certificates=saml_idp.cert_pem,
    )
    assert client.post(ADD_URL, data).status_code == 302
    connection = SAMLConnection.objects.get()
    assert connection.saml_metadata_xml == "" and connection.saml_idp_entity_id == IDP_ENTITY_ID


def test_by_hand_without_a_certificate_is_a_form_error(client, acme_owner, acme):
    client.force_login(acme_owner)
    data = form_data(acme, saml_idp_entity_id=IDP_ENTITY_ID, saml_idp_sso_url=IDP_SSO_URL)
    response = client.post(ADD_URL, data)
    assert response.status_code == 200 and b"IdP signing certificates" in response.content
    response = client.post(
        ADD_URL, {**data, "saml_idp_certificates": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"}
    )
    assert response.status_code == 200 and b"valid X.509" in response.content
    assert not SSOConnection.objects.exists()


def test_owner_uploads_metadata(client, acme_owner, acme, saml_idp):
    client.force_login(acme_owner)
    upload = SimpleUploadedFile("idp.xml", saml_idp.metadata_xml().encode(), content_type="text/xml")
    assert client.post(ADD_URL, {**form_data(acme), "metadata_file": upload}).status_code == 302
    assert SAMLConnection.objects.get().saml_idp_entity_id == IDP_ENTITY_ID


def test_metadata_by_url_is_fetched_and_stored(client, acme_owner, acme, saml_idp, metadata_server):
    metadata_server.documents["/federationmetadata.xml"] = saml_idp.metadata_xml().encode()
    client.force_login(acme_owner)
    url = metadata_server.url + "/federationmetadata.xml"
    assert client.post(ADD_URL, form_data(acme, saml_metadata_url=url)).status_code == 302
    connection = SAMLConnection.objects.get()
    assert connection.saml_idp_entity_id == IDP_ENTITY_ID
    assert connection.saml_metadata_fetched_at is not None
    assert saml_idp.cert_pem.splitlines()[1] in connection.saml_metadata_xml


def test_an_unreachable_metadata_url_is_a_form_error_within_the_timeout(client, acme_owner, acme, black_hole, settings):
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "SSO_HTTP_TIMEOUT": 0.5}
    client.force_login(acme_owner)
    began = time.monotonic()
    response = client.post(ADD_URL, form_data(acme, saml_metadata_url=f"http://127.0.0.1:{black_hole}/md"))
    assert time.monotonic() - began < 10
    assert response.status_code == 200 and b"did not answer within" in response.content
    assert not SSOConnection.objects.exists()


def test_private_network_metadata_urls_are_refused_in_production(client, acme_owner, acme, settings):
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "SSO_ALLOW_LOCAL_IDPS": False}
    client.force_login(acme_owner)
    for url in ("http://idp.example.com/md", "https://127.0.0.1:8443/md", "https://169.254.169.254/latest"):
        response = client.post(ADD_URL, form_data(acme, saml_metadata_url=url))
        assert response.status_code == 200, url
        assert re.search(rb"must use https|private or local network", response.content), url
    assert not SSOConnection.objects.exists()


@pytest.mark.parametrize(
    "xml",
    [
        "not xml at all",
        "<md:EntityDescriptor xmlns:md='urn:oasis:names:tc:SAML:2.0:metadata' entityID='x'/>",
        '<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>',
    ],
)
def test_malformed_metadata_is_a_form_error_not_a_500(client, acme_owner, acme, xml):
    client.force_login(acme_owner)
    response = client.post(ADD_URL, form_data(acme, saml_metadata_xml=xml))
    assert response.status_code == 200
    assert b"errorlist" in response.content
    assert not SSOConnection.objects.exists()


def test_a_bad_attribute_mapping_is_a_form_error(client, acme_owner, acme, saml_idp):
    client.force_login(acme_owner)
    data = form_data(acme, saml_metadata_xml=saml_idp.metadata_xml(), saml_attribute_mapping='{"password": "x"}')
    response = client.post(ADD_URL, data)
    assert response.status_code == 200 and b"fields: email, given_name" in response.content


def test_one_enabled_connection_per_organisation_across_protocols(client, acme_owner, acme, saml_idp, idp):
    make_connection(acme, idp.url)
    client.force_login(acme_owner)
    response = client.post(ADD_URL, form_data(acme, saml_metadata_xml=saml_idp.metadata_xml()))
    assert response.status_code == 200
    assert b"already has an enabled SSO connection" in response.content


def test_the_oidc_list_does_not_show_saml_connections(client, acme_owner, acme, saml_idp):
    connection = make_saml_connection(acme, saml_idp, name="Our SAML IdP")
    client.force_login(acme_owner)
    assert b"Our SAML IdP" not in client.get("/admin/jeto_identity/ssoconnection/").content
    assert b"Our SAML IdP" in client.get(ADMIN).content
    assert client.get(f"/admin/jeto_identity/ssoconnection/{connection.pk}/change/").status_code in (302, 404)


def test_test_connection_reports_success(client, acme_admin, acme, saml_idp):
    connection = make_saml_connection(acme, saml_idp)
    client.force_login(acme_admin)
    text = client.post(f"{ADMIN}{connection.pk}/test/", follow=True).content.decode()
    assert "works" in text and IDP_ENTITY_ID in text and "1 signing certificate" in text


def test_test_connection_reports_an_unreachable_metadata_url(client, acme_admin, acme, saml_idp, closed_port):
    connection = make_saml_connection(acme, saml_idp, saml_metadata_url=f"http://127.0.0.1:{closed_port}/md")
    client.force_login(acme_admin)
    response = client.post(ADMIN, {"action": "test_connection", "_selected_action": [connection.pk]}, follow=True)
    text = response.content.decode()
    assert "has a problem" in text and "Couldn&#x27;t connect to the IdP" in text


def test_test_connection_needs_post(client, acme_admin, acme, saml_idp):
    connection = make_saml_connection(acme, saml_idp)
    client.force_login(acme_admin)
    assert client.get(f"{ADMIN}{connection.pk}/test/").status_code == 403


def test_system_checks_for_saml(settings, monkeypatch):
    import shutil

    from jeto_identity.sso.checks import check_saml

    assert check_saml(None) == [] or shutil.which("xmlsec1") is None
    for bad in (-1, 601, "60", True):
        settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "SSO_SAML_CLOCK_SKEW": bad}
        assert "jeto_identity.E110" in [m.id for m in check_saml(None)], bad
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "SSO_SAML_CLOCK_SKEW": 400}
    assert "jeto_identity.W110" in [m.id for m in check_saml(None)]
    settings.JETO_IDENTITY = {
        **settings.JETO_IDENTITY,
        "SSO_SAML_CLOCK_SKEW": 60,
        "SSO_SAML_XMLSEC1": "no-such-xmlsec1",
    }
    assert [m.id for m in check_saml(None)] == ["jeto_identity.W111"]


def test_a_missing_xmlsec1_gives_a_clear_page_not_a_500(client, acme, saml_idp, acme_member, settings):
    connection = make_saml_connection(acme, saml_idp)
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "SSO_SAML_XMLSEC1": "/nonexistent/xmlsec1"}
    client.post("/login/", {"email": "max@acme.test"})
    response = client.get(f"/sso/{connection.public_id}/saml/start/")
    assert response.status_code == 502 and b"misconfigured" in response.content


def test_the_plan_gates_new_saml_connections_and_its_cap_counts_every_type(client, acme_owner, acme, saml_idp, idp):
    from jeto_identity.orgadmin import plans

    client.force_login(acme_owner)
    by_hand = form_data(
        acme, saml_idp_entity_id=IDP_ENTITY_ID, saml_idp_sso_url=IDP_SSO_URL, saml_idp_certificates=saml_idp.cert_pem
    )
    plans.set_feature(acme, plans.SSO, False)
    response = client.post(ADD_URL, by_hand)
    assert response.status_code == 200 and b"does not include" in response.content
    plans.set_feature(acme, plans.SSO, True)
    row = plans.plan_row(acme)
    row.max_sso_connections = 1
    row.save()
    SSOConnection.objects.create(organization=acme, name="Okta (OIDC)", enabled=False)
    response = client.post(ADD_URL, {**by_hand, "enabled": ""})
    assert response.status_code == 200 and not SAMLConnection.objects.exists()  # the OIDC one fills the cap
