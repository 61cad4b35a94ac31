"""SAML against an IdP we did not write: SimpleSAMLphp (Debian's package, under ``php -S``), started by the suite.

The owner connects it in admin by its metadata URL; people sign in on its own login form. The forged-response
table at the end starts from responses SimpleSAMLphp really signed.
"""

from __future__ import annotations

import base64
import re

import pytest
from django.contrib.auth import SESSION_KEY

from jeto_identity.audit import services as audit
from jeto_identity.models import AuditEvent, FederatedIdentity, Membership, SAMLConnection, User

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
    """What the browser does with the IdP's auto-post form (and with our self-posting page, without our cookie)."""
    assert answer["action"].startswith("http://testserver/"), answer["action"]
    url = answer["action"].removeprefix("http://testserver")
    response = client.post(url, {"SAMLResponse": answer["SAMLResponse"]})
    if response.status_code == 200 and b"data-autosubmit" in response.content:
        response = client.post(url, {"SAMLResponse": answer["SAMLResponse"], "jeto_continue": "1"})
    return response


def test_first_sign_in_creates_the_account(client, ssp_connection, simplesamlphp, acme):
    response = post_to_acs(client, idp_answer(client, simplesamlphp, "newbie@acme.test", "newbie"))
    assert response.status_code == 302, response.content
    user = User.objects.get(email="newbie@acme.test")
    assert client.session.get(SESSION_KEY) == str(user.pk)
    assert (user.first_name, user.last_name) == ("Nina", "Newbie")
    assert FederatedIdentity.objects.get(user=user).subject == "ssp-newbie"
    assert Membership.objects.filter(user=user, organization=acme).exists()


def test_a_returning_person_signs_in_to_the_same_account(client, ssp_connection, simplesamlphp):
    assert post_to_acs(client, idp_answer(client, simplesamlphp, "newbie@acme.test", "newbie")).status_code == 302
    client.logout()
    assert post_to_acs(client, idp_answer(client, simplesamlphp, "newbie@acme.test", "newbie")).status_code == 302
    assert User.objects.filter(email="newbie@acme.test").count() == 1
    assert FederatedIdentity.objects.count() == 1


def test_an_existing_member_is_linked(client, ssp_connection, simplesamlphp, acme_member):
    assert post_to_acs(client, idp_answer(client, simplesamlphp, "max@acme.test", "max")).status_code == 302
    assert client.session.get(SESSION_KEY) == str(acme_member.pk)
    assert FederatedIdentity.objects.get().subject == "ssp-max"


def test_the_owner_must_confirm_the_link(client, ssp_connection, simplesamlphp, acme_owner):
    response = post_to_acs(client, idp_answer(client, simplesamlphp, "olga@acme.test", "olga"))
    assert response.status_code == 302 and response.url == "/sso/link/"
    assert client.session.get(SESSION_KEY) is None
    assert not FederatedIdentity.objects.exists()


def test_a_foreign_domain_is_refused(client, ssp_connection, simplesamlphp, globex_member):
    """Typing an Acme address routes to Acme's IdP; signing in there as a Globex person is refused."""
    response = post_to_acs(client, idp_answer(client, simplesamlphp, "max@acme.test", "gus"))
    assert response.status_code == 403
    assert client.session.get(SESSION_KEY) is None
    assert AuditEvent.objects.filter(event=audit.SSO_SIGN_IN, outcome="denied", details__reason="foreign_domain")


def test_enforced_sso_signs_in_through_the_idp_only(client, ssp_connection, simplesamlphp, acme, acme_member, password):
    acme.sso_enforced = True
    acme.save()
    assert post_to_acs(client, idp_answer(client, simplesamlphp, "max@acme.test", "max")).status_code == 302
    assert client.session.get(SESSION_KEY) == str(acme_member.pk)
    client.logout()
    client.post("/login/", {"email": "max@acme.test"})
    client.get("/login/break-glass/")
    client.post("/login/", {"email": "max@acme.test"})
    assert client.post("/login/password/", {"password": password}).status_code == 403
    assert client.session.get(SESSION_KEY) is None


def test_a_wrong_password_at_the_idp_sends_nothing(client, ssp_connection, simplesamlphp):
    answer = idp_answer(client, simplesamlphp, "newbie@acme.test", "newbie", password="wrong-password")
    assert "SAMLResponse" not in answer
    assert not User.objects.filter(email="newbie@acme.test").exists()


def test_idp_initiated_sign_in_is_refused_by_default_and_works_when_switched_on(
    client, ssp_connection, simplesamlphp, acme_member
):
    entity_id = f"http://testserver/sso/{ssp_connection.public_id}/saml/metadata/"
    refused = post_to_acs(client, simplesamlphp.idp_initiated(entity_id, "max"))
    assert refused.status_code == 400 and client.session.get(SESSION_KEY) is None
    assert AuditEvent.objects.filter(event=audit.SSO_SIGN_IN, outcome="denied", details__reason="unsolicited")
    ssp_connection.saml_allow_idp_initiated = True
    ssp_connection.save()
    accepted = post_to_acs(client, simplesamlphp.idp_initiated(entity_id, "max"))
    assert accepted.status_code == 302 and client.session.get(SESSION_KEY) == str(acme_member.pk)


# ---- forged and altered responses, starting from ones SimpleSAMLphp signed ----------------------------------------

_ASSERTION = re.compile(r"<(?P<p>\w+):Assertion\b.*?</(?P=p):Assertion>", re.S)


def _tampered(answer: dict[str, str], change) -> dict[str, str]:
    xml = base64.b64decode(answer["SAMLResponse"]).decode()
    changed = change(xml)
    assert changed != xml
    return {**answer, "SAMLResponse": base64.b64encode(changed.encode()).decode()}


def _evil(assertion: str) -> str:
    unsigned = re.sub(r"<(\w+):Signature\b.*?</\1:Signature>", "", assertion, flags=re.S)
    return unsigned.replace("ssp-max", "ssp-olga").replace("max@acme.test", "olga@acme.test")


def _wrap_before(xml: str) -> str:
    signed = _ASSERTION.search(xml).group(0)
    return xml.replace(signed, _evil(signed).replace('ID="', 'ID="evil', 1) + signed)


def _wrap_in_extensions(xml: str) -> str:
    signed = _ASSERTION.search(xml).group(0)
    prefix = re.search(r"<(\w+):Response", xml).group(1)
    issuer_end = xml.index(">", xml.index("</", xml.index(":Issuer"))) + 1
    xml = xml[:issuer_end] + f"<{prefix}:Extensions>{signed}</{prefix}:Extensions>" + xml[issuer_end:]
    head, tail = xml.rsplit(signed, 1)
    return head + _evil(signed) + tail


def _unsigned(xml: str) -> str:
    return re.sub(r"<(\w+):Signature\b.*?</\1:Signature>", "", xml, flags=re.S)


FORGERIES = {
    "nameid changed": (lambda xml: xml.replace(">ssp-max<", ">ssp-olga<"), "signature"),
    "email changed": (lambda xml: xml.replace(">max@acme.test<", ">olga@acme.test<"), "signature"),
    "signature removed": (_unsigned, "signature"),
    "wrapped before the signed assertion": (_wrap_before, "wrapping"),
    "signed assertion hidden in extensions": (_wrap_in_extensions, "wrapping"),
    "comment in the nameid": (lambda xml: xml.replace(">ssp-max<", ">ssp<!---->-max<"), "xml_comment"),
    "destination changed": (
        lambda xml: re.sub(r'Destination="[^"]+"', 'Destination="https://evil.test/acs"', xml),
        "destination",
    ),
}


@pytest.mark.parametrize("name", list(FORGERIES))
def test_an_altered_simplesamlphp_response_is_refused(
    client, ssp_connection, simplesamlphp, acme_member, acme_owner, name
):
    change, reason = FORGERIES[name]
    answer = idp_answer(client, simplesamlphp, "max@acme.test", "max")
    response = post_to_acs(client, _tampered(answer, change))
    assert response.status_code == 400, response.content[:300]
    assert client.session.get(SESSION_KEY) is None
    assert not FederatedIdentity.objects.exists()
    event = AuditEvent.objects.filter(event=audit.SSO_SIGN_IN, outcome="denied").latest("pk")
    assert event.details["reason"] == reason
    assert post_to_acs(client, answer).status_code == 302  # control: the unaltered one still signs in
    assert client.session.get(SESSION_KEY) == str(acme_member.pk)


def test_a_simplesamlphp_response_is_accepted_once(client, ssp_connection, simplesamlphp, acme_member):
    answer = idp_answer(client, simplesamlphp, "max@acme.test", "max")
    assert post_to_acs(client, answer).status_code == 302
    client.logout()
    client.post("/login/", {"email": "max@acme.test"})
    assert post_to_acs(client, answer).status_code == 400
    assert client.session.get(SESSION_KEY) is None


def test_a_response_for_acme_is_refused_at_globexs_acs(client, ssp_connection, simplesamlphp, globex, acme_member):
    from tests.saml_support import make_saml_connection

    other = make_saml_connection(
        globex,
        None,
        saml_metadata_xml=ssp_connection.saml_metadata_xml,
        saml_idp_entity_id=ssp_connection.saml_idp_entity_id,
    )
    answer = idp_answer(client, simplesamlphp, "max@acme.test", "max")
    refused = client.post(f"/sso/{other.public_id}/saml/acs/", {"SAMLResponse": answer["SAMLResponse"]})
    assert refused.status_code == 400 and client.session.get(SESSION_KEY) is None
