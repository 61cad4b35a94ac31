"""Forged and altered SAML responses: each is refused with a 400, an audit event and nobody signed in.

Every response starts as one the test IdP (pysaml2's IdP side, its own key) really built for one of our
AuthnRequests. ``mutate`` changes it before the IdP signs (the IdP vouches for the wrong value), ``tamper`` after
(the signature no longer covers the change). The first test is the control: the unaltered response signs in.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client

from jeto_identity.audit import services as audit
from jeto_identity.models import AuditEvent, FederatedIdentity
from tests.saml_support import SAMLJourney, TestIdP, make_saml_connection

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sso_env")]

EMAIL = "max@acme.test"
NAME_ID = "okta-00u-max"


@pytest.fixture
def acme_saml(acme, saml_idp):
    return make_saml_connection(acme, saml_idp)


@pytest.fixture
def journey(client, saml_idp, acme_saml):
    return SAMLJourney(client, saml_idp, acme_saml)


def _time(delta: datetime.timedelta) -> str:
    return (datetime.datetime.now(datetime.UTC) + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def assert_refused(client, response, reason: str, links: int = 0) -> None:
    assert response.status_code == 400, (response.status_code, response.content[:300])
    assert b"Sign-in response not accepted" in response.content
    assert client.session.get(SESSION_KEY) is None
    assert FederatedIdentity.objects.count() == links
    event = AuditEvent.objects.filter(event=audit.SSO_SIGN_IN, outcome="denied").latest("pk")
    assert event.details["reason"] == reason, event.details


def test_control_the_unaltered_response_signs_in(client, journey, acme_member):
    response = journey.sign_in(EMAIL, NAME_ID)
    assert response.status_code == 302, response.content
    assert client.session.get(SESSION_KEY) == str(acme_member.pk)


def test_a_response_signed_only_on_the_response_element_signs_in(client, journey, acme_member):
    assert journey.sign_in(EMAIL, NAME_ID, sign="response").status_code == 302
    assert client.session.get(SESSION_KEY) == str(acme_member.pk)


# ---- signatures -----------------------------------------------------------------------------------------------


def test_unsigned_response_is_refused(client, journey, acme_member):
    assert_refused(client, journey.sign_in(EMAIL, NAME_ID, sign="none"), "signature")


def test_a_nameid_changed_after_signing_is_refused(client, journey, acme_member):
    tampered = journey.sign_in(EMAIL, NAME_ID, tamper=lambda xml: xml.replace(NAME_ID, "okta-00u-olga"))
    assert_refused(client, tampered, "signature")


def test_an_attribute_changed_after_signing_is_refused(client, journey, acme_member):
    tampered = journey.sign_in(EMAIL, NAME_ID, tamper=lambda xml: xml.replace(EMAIL, "olga@acme.test"))
    assert_refused(client, tampered, "signature")


def test_a_response_signed_by_another_key_is_refused(client, journey, acme_member, tmp_path):
    impostor = TestIdP(tmp_path, name="impostor")  # same entity ID, its own key
    impostor.trust(journey.client.get(f"/sso/{journey.connection.public_id}/saml/metadata/").content.decode())
    request = journey.start(EMAIL)
    forged = impostor.response(
        request,
        name_id=NAME_ID,
        attributes={"mail": [EMAIL]},
        sp_entity_id=journey.entity_id,
        acs_url=journey.acs_url,
    )
    assert_refused(client, journey.post(forged), "signature")


def test_sha1_signatures_are_refused(client, journey, acme_member):
    assert_refused(client, journey.sign_in(EMAIL, NAME_ID, sha1=True), "sha1")


def test_sha1_signatures_are_accepted_when_the_connection_allows_them(client, journey, acme_saml, acme_member):
    acme_saml.saml_allow_sha1 = True
    acme_saml.save()
    assert journey.sign_in(EMAIL, NAME_ID, sha1=True).status_code == 302
    assert client.session.get(SESSION_KEY) == str(acme_member.pk)


# ---- XML signature wrapping and XML tricks ----------------------------------------------------------------------

_ASSERTION = re.compile(r"<(?P<p>[\w]+):Assertion\b.*?</(?P=p):Assertion>", re.S)


def _evil_copy(signed_assertion: str) -> str:
    """The signed assertion with its signature dropped and another person's NameID and email."""
    evil = re.sub(r"<(\w+):Signature\b.*?</\1:Signature>", "", signed_assertion, flags=re.S)
    return evil.replace(NAME_ID, "okta-00u-olga").replace(EMAIL, "olga@acme.test")


def test_wrapping_an_unsigned_assertion_before_the_signed_one_is_refused(client, journey, acme_member, acme_owner):
    def wrap(xml: str) -> str:
        signed = _ASSERTION.search(xml).group(0)
        evil = _evil_copy(signed).replace('ID="', 'ID="evil', 1)
        return xml.replace(signed, evil + signed)

    assert_refused(client, journey.sign_in(EMAIL, NAME_ID, tamper=wrap), "wrapping")


def test_wrapping_the_signed_assertion_in_extensions_under_an_evil_one_with_its_id_is_refused(
    client, journey, acme_member, acme_owner
):
    def wrap(xml: str) -> str:
        signed = _ASSERTION.search(xml).group(0)
        prefix = re.search(r"<(\w+):Response", xml).group(1)
        hidden = f"<{prefix}:Extensions>{signed}</{prefix}:Extensions>"
        issuer_end = xml.index("</", xml.index(":Issuer"))
        issuer_end = xml.index(">", issuer_end) + 1
        xml = xml[:issuer_end] + hidden + xml[issuer_end:]
        return xml.replace(signed, _evil_copy(signed), 1) if xml.count(signed) == 2 else xml

    assert_refused(client, journey.sign_in(EMAIL, NAME_ID, tamper=wrap), "wrapping")


def test_a_comment_inside_the_signed_nameid_is_refused(client, journey, acme_member):
    """A comment is invisible to the signature (exclusive c14n without comments) but splits the NameID's text."""
    name_id = "max@acme.test.attacker.test"
    tampered = journey.sign_in(
        EMAIL, name_id, tamper=lambda xml: xml.replace(name_id, "max@acme.test<!---->.attacker.test")
    )
    assert_refused(client, tampered, "xml_comment")


@pytest.mark.parametrize("padded", [f" {NAME_ID} ", f"{NAME_ID}\n", f"{NAME_ID}\u200b"])
def test_a_nameid_with_surrounding_whitespace_or_control_characters_is_refused(client, journey, acme_member, padded):
    def pad(response):
        response.assertion[0].subject.name_id.text = padded

    assert_refused(client, journey.sign_in(EMAIL, NAME_ID, mutate=pad), "bad_nameid")


def test_an_element_sharing_the_signed_assertions_id_is_refused(client, journey, acme_member):
    """Two elements with one ID: which one a signature reference means is up to the parser (wrapping)."""

    def duplicate_id(xml: str) -> str:
        assertion_id = re.search(r'<\w+:Assertion\b[^>]*\bID="([^"]+)"', xml).group(1)
        prefix = re.search(r"<(\w+):Response", xml).group(1)
        issuer_end = xml.index(">", xml.index("</", xml.index(":Issuer"))) + 1
        decoy = f'<{prefix}:Extensions><x:Decoy xmlns:x="urn:decoy" ID="{assertion_id}"/></{prefix}:Extensions>'
        return xml[:issuer_end] + decoy + xml[issuer_end:]

    assert_refused(client, journey.sign_in(EMAIL, NAME_ID, tamper=duplicate_id), "wrapping")


def test_a_document_type_declaration_is_refused(client, journey, acme_member):
    tampered = journey.sign_in(
        EMAIL, NAME_ID, tamper=lambda xml: '<!DOCTYPE r [<!ENTITY x "y">]>' + xml.split("?>", 1)[-1]
    )
    assert_refused(client, tampered, "malformed")


def test_garbage_is_refused_with_a_400(client, journey, acme_member):
    journey.start(EMAIL)
    assert_refused(client, journey.post("not base64 at all!"), "malformed")
    assert_refused(client, journey.post("PGZvbz4="), "malformed")  # <foo>


# ---- audience, recipient, destination ---------------------------------------------------------------------------


def test_wrong_audience_is_refused(client, journey, acme_member):
    def audience(response):
        response.assertion[0].conditions.audience_restriction[0].audience[0].text = "https://other-sp.test/metadata"

    assert_refused(client, journey.sign_in(EMAIL, NAME_ID, mutate=audience), "audience")


def test_missing_audience_restriction_is_refused(client, journey, acme_member):
    def no_audience(response):
        response.assertion[0].conditions.audience_restriction = []

    assert_refused(client, journey.sign_in(EMAIL, NAME_ID, mutate=no_audience), "audience")


def test_wrong_recipient_is_refused(client, journey, acme_member):
    def recipient(response):
        data = response.assertion[0].subject.subject_confirmation[0].subject_confirmation_data
        data.recipient = "https://other-sp.test/acs"

    assert_refused(client, journey.sign_in(EMAIL, NAME_ID, mutate=recipient), "recipient")


def test_wrong_destination_is_refused(client, journey, acme_member):
    def destination(response):
        response.destination = "https://other-sp.test/acs"

    assert_refused(client, journey.sign_in(EMAIL, NAME_ID, mutate=destination, sign="both"), "destination")


def test_a_response_for_another_connection_is_refused(client, journey, acme_member, globex, saml_idp):
    """Globex's ACS receives a response Acme's IdP addressed to Acme: destination, recipient and audience differ."""
    other = make_saml_connection(globex, saml_idp)
    request = journey.start(EMAIL)
    response = journey.answer(request, NAME_ID, EMAIL)
    refused = client.post(f"/sso/{other.public_id}/saml/acs/", {"SAMLResponse": response})
    assert_refused(client, refused, "destination")


# ---- time ---------------------------------------------------------------------------------------------------


def test_an_expired_assertion_is_refused(client, journey, acme_member):
    def expire(response):
        past = _time(datetime.timedelta(minutes=-10))
        response.assertion[0].conditions.not_before = _time(datetime.timedelta(minutes=-20))
        response.assertion[0].conditions.not_on_or_after = past
        response.assertion[0].subject.subject_confirmation[0].subject_confirmation_data.not_on_or_after = past

    assert_refused(client, journey.sign_in(EMAIL, NAME_ID, mutate=expire), "expired")


def test_a_not_yet_valid_assertion_is_refused(client, journey, acme_member):
    def future(response):
        response.assertion[0].conditions.not_before = _time(datetime.timedelta(minutes=10))
        response.assertion[0].conditions.not_on_or_after = _time(datetime.timedelta(minutes=20))

    assert_refused(client, journey.sign_in(EMAIL, NAME_ID, mutate=future), "not_yet_valid")


def test_a_clock_a_little_behind_is_within_the_skew(client, journey, acme_member):
    def slightly_future(response):
        response.assertion[0].conditions.not_before = _time(datetime.timedelta(seconds=20))

    assert journey.sign_in(EMAIL, NAME_ID, mutate=slightly_future).status_code == 302


# ---- replay and unsolicited responses ---------------------------------------------------------------------------


def test_a_response_is_accepted_once(client, journey, acme_member):
    request = journey.start(EMAIL)
    response = journey.answer(request, NAME_ID, EMAIL)
    assert journey.post(response).status_code == 302
    client.logout()
    journey.start(EMAIL)
    assert_refused(client, journey.post(response), "unsolicited", links=1)


def test_a_replayed_request_id_is_refused_even_if_a_session_still_lists_it(client, journey, acme_member):
    """The request ID's one-time mark is in the shared cache: a second node with a stale session copy refuses it."""
    request = journey.start(EMAIL)
    saved = dict(client.session["jeto_saml_requests"])
    assert journey.post(journey.answer(request, NAME_ID, EMAIL)).status_code == 302
    client.logout()
    journey.start(EMAIL)
    session = client.session
    session["jeto_saml_requests"] = {**session["jeto_saml_requests"], **saved}
    session.save()
    assert_refused(client, journey.post(journey.answer(request, NAME_ID, EMAIL)), "replay", links=1)


def test_a_replayed_assertion_is_refused_with_idp_initiated_sign_in_on(client, journey, acme_saml, acme_member):
    acme_saml.saml_allow_idp_initiated = True
    acme_saml.save()
    response = journey.answer(None, NAME_ID, EMAIL)
    assert journey.post(response).status_code == 302
    assert client.session.get(SESSION_KEY) == str(acme_member.pk)
    client.logout()
    assert_refused(client, journey.post(response), "replay", links=1)


def test_an_unsolicited_response_is_refused_by_default(client, journey, acme_member):
    assert_refused(client, journey.post(journey.answer(None, NAME_ID, EMAIL)), "unsolicited")


def test_a_response_to_another_browsers_request_is_refused(client, journey, acme_member):
    other_browser = Client()
    other = SAMLJourney(other_browser, journey.idp, journey.connection)
    their_request = other.start(EMAIL)
    journey.start(EMAIL)
    assert_refused(client, journey.post(journey.answer(their_request, NAME_ID, EMAIL)), "unsolicited")


# ---- encryption -------------------------------------------------------------------------------------------------


def test_an_encrypted_assertion_is_decrypted_and_signs_in(client, journey, acme_saml, acme_member):
    response = journey.sign_in(EMAIL, NAME_ID, encrypt_to=acme_saml.saml_sp_certificate)
    assert response.status_code == 302, response.content
    assert client.session.get(SESSION_KEY) == str(acme_member.pk)


def test_an_assertion_encrypted_to_another_key_is_refused(client, journey, acme_member, tmp_path):
    stranger = TestIdP(tmp_path, name="stranger")
    assert_refused(client, journey.sign_in(EMAIL, NAME_ID, encrypt_to=stranger.cert_pem), "decrypt")
