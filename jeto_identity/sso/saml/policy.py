"""Our checks on an IdP's response, around pysaml2's (which verifies the signatures with xmlsec1).

Before pysaml2 reads it (``check_document``): a well-formed ``samlp:Response`` without DTDs, comments or processing
instructions (a comment inside a signed NameID is invisible to the signature but splits its text); exactly one
assertion, encrypted or not, anywhere in the document, and unique IDs (so the element the signature covers is
the one consumed: XML signature wrapping); a ``Destination`` equal to our ACS URL; no SHA-1 signature or digest
unless the connection allows it.

After pysaml2 accepted it (``check_parsed``): the (decrypted) assertion's own algorithms, an ``AudienceRestriction``
naming us (pysaml2 accepts an assertion without one), and every bearer ``Recipient`` equal to our ACS URL
(pysaml2 checks it only when given conversation info).
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Comment, ProcessingInstruction, TreeBuilder

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, ParseError

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"

SHA1_ALGORITHMS = frozenset(
    {
        "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
        "http://www.w3.org/2000/09/xmldsig#dsa-sha1",
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1",
        "http://www.w3.org/2000/09/xmldsig#sha1",
    }
)
STRONG_ALGORITHMS = frozenset(
    {
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512",
        "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1",
        "http://www.w3.org/2001/04/xmlenc#sha256",
        "http://www.w3.org/2001/04/xmldsig-more#sha384",
        "http://www.w3.org/2001/04/xmlenc#sha512",
    }
)


class ResponseRejected(Exception):
    """The IdP's response is refused. ``reason`` is a short code for the audit log and tests."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def _parse(xml: bytes):
    builder = TreeBuilder(insert_comments=True, insert_pis=True)
    parser = DefusedXMLParser(target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    try:
        parser.feed(xml)
        return parser.close()
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise ResponseRejected("malformed", exc.__class__.__name__) from None


def _check_algorithm(algorithm: str | None, allow_sha1: bool) -> None:
    if algorithm in SHA1_ALGORITHMS:
        if not allow_sha1:
            raise ResponseRejected("sha1", "SHA-1 signatures are not accepted from this IdP")
    elif algorithm not in STRONG_ALGORITHMS:
        raise ResponseRejected("algorithm", f"signature algorithm {algorithm!r} is not accepted")


def check_document(xml: bytes, *, acs_url: str, allow_sha1: bool) -> bool:
    """Checks on the raw response, before pysaml2 parses it: whether its assertion is encrypted. Raises
    ``ResponseRejected``."""
    root = _parse(xml)
    if root.tag != f"{{{SAMLP}}}Response":
        raise ResponseRejected("malformed", "not a SAML Response")
    ids: set[str] = set()
    assertions = encrypted = 0
    for element in root.iter():
        if element.tag is Comment or element.tag is ProcessingInstruction:
            raise ResponseRejected("xml_comment", "comments and processing instructions are not accepted")
        element_id = element.get("ID")
        if element_id is not None:
            if element_id in ids:
                raise ResponseRejected("wrapping", "two elements share an ID")
            ids.add(element_id)
        if element.tag == f"{{{SAML}}}Assertion":
            assertions += 1
        elif element.tag == f"{{{SAML}}}EncryptedAssertion":
            encrypted += 1
        elif element.tag in (f"{{{DS}}}SignatureMethod", f"{{{DS}}}DigestMethod"):
            _check_algorithm(element.get("Algorithm"), allow_sha1)
    if assertions + encrypted != 1:
        raise ResponseRejected("wrapping", f"{assertions + encrypted} assertions (exactly one is accepted)")
    if root.get("Destination") != acs_url:
        raise ResponseRejected("destination", "the response is addressed to another URL")
    return encrypted == 1


def _check_signature_algorithms(signature: Any, allow_sha1: bool) -> None:
    if signature is None:
        return
    signed_info = signature.signed_info
    _check_algorithm(getattr(signed_info.signature_method, "algorithm", None), allow_sha1)
    for reference in signed_info.reference or []:
        _check_algorithm(getattr(reference.digest_method, "algorithm", None), allow_sha1)


def check_parsed(response: Any, *, sp_entity_id: str, acs_url: str, allow_sha1: bool, encrypted: bool) -> None:
    """Checks on pysaml2's ``AuthnResponse`` after it verified the signatures. Raises ``ResponseRejected``."""
    assertion = response.assertion
    if assertion is None:  # pysaml2 goes on without the assertion it couldn't decrypt
        raise ResponseRejected("decrypt" if encrypted else "no_assertion")
    _check_signature_algorithms(getattr(response.response, "signature", None), allow_sha1)
    _check_signature_algorithms(getattr(assertion, "signature", None), allow_sha1)
    conditions = assertion.conditions
    audiences = [
        (audience.text or "").strip()
        for restriction in (conditions.audience_restriction if conditions is not None else None) or []
        for audience in restriction.audience or []
    ]
    if sp_entity_id not in audiences:
        raise ResponseRejected("audience", "the assertion is not addressed to us")
    if conditions is None or not conditions.not_on_or_after:
        raise ResponseRejected("no_expiry", "the assertion has no NotOnOrAfter")
    confirmations = assertion.subject.subject_confirmation if assertion.subject is not None else None
    if not confirmations:
        raise ResponseRejected("recipient", "no subject confirmation")
    for confirmation in confirmations:
        data = confirmation.subject_confirmation_data
        if data is None or data.recipient != acs_url:
            raise ResponseRejected("recipient", "the assertion's Recipient is another URL")
