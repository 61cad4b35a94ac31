"""From a SAML assertion's NameID and attributes to the claims every connection type hands the shared rules.

The defaults list the attribute names the common IdPs send, so most connections need no mapping: Entra ID and
AD FS (the ``http://schemas.xmlsoap.org/...`` claim URIs), Okta and Google Workspace (the names an admin types,
``email``, ``firstName``…), Keycloak and Shibboleth (``urn:oid:`` names, friendly names ``mail``, ``givenName``…).
An org admin overrides any field in the connection's ``saml_attribute_mapping``.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from jeto_identity.sso.saml.policy import ResponseRejected

FIELDS = ("email", "given_name", "family_name", "groups")
DEFAULT_MAPPING: dict[str, list[str]] = {
    "email": [
        "email",
        "mail",
        "emailAddress",
        "urn:oid:0.9.2342.19200300.100.1.3",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
    ],
    "given_name": [
        "given_name",
        "givenName",
        "firstName",
        "first_name",
        "urn:oid:2.5.4.42",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
    ],
    "family_name": [
        "family_name",
        "sn",
        "surname",
        "lastName",
        "last_name",
        "urn:oid:2.5.4.4",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
    ],
    "groups": [
        "groups",
        "Group",
        "memberOf",
        "Role",
        "urn:oid:1.3.6.1.4.1.5923.1.5.1.1",
        "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
        "http://schemas.microsoft.com/ws/2008/06/identity/claims/role",
    ],
}
NAMEID_TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
GROUPS_CLAIM = "groups"


def mapping(connection: Any) -> dict[str, list[str]]:
    """The effective mapping: the connection's own names per field, the defaults for the fields it leaves out."""
    own = connection.saml_attribute_mapping if isinstance(connection.saml_attribute_mapping, dict) else {}
    result = {}
    for field in FIELDS:
        names = own.get(field)
        if isinstance(names, str):
            names = [names]
        result[field] = [n for n in names if isinstance(n, str) and n] if isinstance(names, list) else []
        result[field] = result[field] or DEFAULT_MAPPING[field]
    return result


def assertion_attributes(assertion: Any) -> dict[str, list[str]]:
    """Every attribute of the (verified, decrypted) assertion by name and by friendly name, values as text."""
    values: dict[str, list[str]] = {}
    for statement in assertion.attribute_statement or []:
        for attribute in statement.attribute or []:
            texts = [(v.text or "").strip() for v in attribute.attribute_value or [] if v.text]
            for name in {attribute.name, attribute.friendly_name} - {None, ""}:
                values.setdefault(name, []).extend(texts)
    return values


def _first(attributes: dict[str, list[str]], names: list[str]) -> str:
    for name in names:
        for value in attributes.get(name, []):
            if value:
                return value
    return ""


def clean_name_id(name_id: Any) -> str:
    """The NameID as a subject: present, not transient, no surrounding whitespace or control characters."""
    if name_id is None or not isinstance(name_id.text, str) or not name_id.text:
        raise ResponseRejected("bad_nameid", "the assertion has no NameID")
    if name_id.format == NAMEID_TRANSIENT:
        raise ResponseRejected("bad_nameid", "a transient NameID can't identify a person from one sign-in to the next")
    text = name_id.text
    if text != text.strip() or len(text) > 255 or any(unicodedata.category(ch)[0] == "C" for ch in text):
        raise ResponseRejected("bad_nameid", "the NameID has whitespace, control characters or is too long")
    return text


def claims(connection: Any, name_id: Any, assertion: Any) -> dict[str, Any]:
    """Claims in OIDC's vocabulary for ``sso.services.resolve_user``: sub (the NameID), email, the connection's
    email-verified claim, given_name, family_name and, when the connection maps roles, its role claim."""
    names = mapping(connection)
    attributes = assertion_attributes(assertion)
    subject = clean_name_id(name_id)
    email = _first(attributes, names["email"])
    if (
        not email
        and "@" in subject
        and name_id.format in (None, "", "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress")
    ):
        email = subject
    result: dict[str, Any] = {
        "sub": subject,
        "email": email,
        "given_name": _first(attributes, names["given_name"]),
        "family_name": _first(attributes, names["family_name"]),
        GROUPS_CLAIM: [v for name in names["groups"] for v in attributes.get(name, [])],
    }
    result[connection.email_verified_claim or "email_verified"] = bool(connection.saml_trust_email)
    if connection.role_claim and connection.role_claim != GROUPS_CLAIM:
        result[connection.role_claim] = attributes.get(connection.role_claim, [])
    return result
