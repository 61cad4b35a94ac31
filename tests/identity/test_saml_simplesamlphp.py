"""SAML against an IdP we did not write: SimpleSAMLphp (Debian's package, under ``php -S``), started by the suite.

The owner connects it in admin by its metadata URL; people sign in on its own login form. The forged-response
table at the end starts from responses SimpleSAMLphp really signed.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY

from jeto_identity.models import FederatedIdentity, Membership, SAMLConnection, User

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sso_env")]

ADMIN = "/admin/jeto_identity/samlconnection/"
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"


@pytest.fixture
def ssp_connection(client, acme, acme_owner, simplesamlphp) -> SAMLConnection:
    """Acme's owner connects SimpleSAMLphp in admin by its metadata URL, and gives it our SP metadata."""
    client.force_login(acme_owner)
    data = {
        "organization": acme.pk,
        "name": "SimpleSAMLphp",
        "enabled": "on",
        "saml_metadata_url": simplesamlphp.metadata_url,
        "saml_sign_requests": "on",
        "saml_nameid_format": PERSISTENT,
        "saml_attribute_mapping": "{}",
        "saml_trust_email": "on",
        "jit_provisioning": "on",
        "default_role": "member",
        "role_mapping": "{}",
    }
    response = client.post(ADMIN + "add/", data)
    assert response.status_code == 302, response.content
    connection = SAMLConnection.objects.get(organization=acme)
    assert connection.saml_idp_entity_id == simplesamlphp.entity_id
    simplesamlphp.trust([client.get(f"/sso/{connection.public_id}/saml/metadata/").content.decode()])
    client.logout()
    return connection


def idp_answer(client, simplesamlphp, email: str, username: str, password: str | None = None) -> dict[str, str]:
    start = client.post("/login/", {"email": email})
    assert start.url.endswith("/saml/start/"), start.url
    to_idp = client.get(start.url)
    assert to_idp.status_code == 302, to_idp.content
    return simplesamlphp.login(to_idp.url, username, password)


def post_to_acs(client, answer: dict[str, str]):
    assert answer["action"].startswith("http://testserver/"), answer["action"]
    return client.post(answer["action"].removeprefix("http://testserver"), {"SAMLResponse": answer["SAMLResponse"]})


def test_first_sign_in_creates_the_account(client, ssp_connection, simplesamlphp, acme):
    response = post_to_acs(client, idp_answer(client, simplesamlphp, "newbie@acme.test", "newbie"))
    assert response.status_code == 302, response.content
    user = User.objects.get(email="newbie@acme.test")
    assert client.session.get(SESSION_KEY) == str(user.pk)
    assert (user.first_name, user.last_name) == ("Nina", "Newbie")
    assert FederatedIdentity.objects.get(user=user).subject == "ssp-newbie"
    assert Membership.objects.filter(user=user, organization=acme).exists()
