"""The IdP's SAML metadata: parsed and checked, fetched by URL (address rules, timeout, size cap), kept in the
connection's row (so every node has the last good copy), refreshed when it is older than
``SSO_METADATA_CACHE_SECONDS``. Every signing certificate the metadata lists is trusted, so an IdP that publishes
its next certificate before switching (rollover) keeps working. A refresh that names another entity ID is refused:
repointing a connection is an owner's decision in admin (and drops its links).
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from cryptography import x509
from django.core.cache import cache
from django.utils import timezone
from saml2 import BINDING_HTTP_REDIRECT
from saml2.mdstore import InMemoryMetaData

from jeto_identity.conf import jeto_settings
from jeto_identity.sso import http
from jeto_identity.sso.http import IdPError

logger = logging.getLogger("jeto_identity.sso")

MAX_METADATA_CHARS = 512 * 1024
_PEM_BEGIN = "-----BEGIN CERTIFICATE-----"
_PEM_END = "-----END CERTIFICATE-----"


@dataclass(frozen=True)
class IdPMetadata:
    entity_id: str
    sso_url: str
    certificates: tuple[str, ...]  # base64 DER, one line each
    not_after: tuple[datetime.datetime, ...] = ()


def split_certificates(text: str) -> list[str]:
    """The certificates in pasted text: PEM blocks, or bare base64 bodies one per paragraph. Raises IdPError."""
    text = (text or "").strip()
    blocks: list[str] = []
    if _PEM_BEGIN in text:
        for part in text.split(_PEM_BEGIN)[1:]:
            if _PEM_END not in part:
                raise IdPError("A certificate has a BEGIN line but no END line.")
            blocks.append("".join(part.split(_PEM_END, 1)[0].split()))
    elif text:
        blocks = ["".join(chunk.split()) for chunk in text.split("\n\n") if chunk.strip()]
    for body in blocks:
        _load(body)
    return blocks


def _load(body: str) -> x509.Certificate:
    pem = f"{_PEM_BEGIN}\n{body}\n{_PEM_END}\n"
    try:
        return x509.load_pem_x509_certificate(pem.encode())
    except ValueError as exc:
        raise IdPError("A certificate isn't a valid X.509 certificate (PEM).") from exc


def parse(xml: str) -> IdPMetadata:
    """Read the one IdP in a metadata document (EntityDescriptor, or EntitiesDescriptor with one IdP)."""
    if not xml or not xml.strip():
        raise IdPError("The metadata is empty.")
    if len(xml) > MAX_METADATA_CHARS:
        raise IdPError(f"The metadata is larger than {MAX_METADATA_CHARS // 1024} KiB.")
    store = InMemoryMetaData([], xml)
    try:
        store.load()
    except Exception as exc:  # pysaml2 raises SAMLError, TooOld, XML parse errors…
        raise IdPError(f"The metadata can't be read: {exc.__class__.__name__}: {str(exc)[:200]}") from None
    idps = [entity_id for entity_id, entity in store.items() if entity.get("idpsso_descriptor")]
    if len(idps) != 1:
        raise IdPError(f"The metadata must describe exactly one identity provider (it has {len(idps)}).")
    entity_id = idps[0]
    services = store.service(entity_id, "idpsso_descriptor", "single_sign_on_service", BINDING_HTTP_REDIRECT)
    if isinstance(services, dict):  # pysaml2 versions differ: {binding: [service]} or [service]
        services = services.get(BINDING_HTTP_REDIRECT, [])
    locations = [s.get("location") for s in services or [] if isinstance(s, dict) and s.get("location")]
    if not locations:
        raise IdPError("The metadata has no single sign-on URL with the HTTP-Redirect binding.")
    certs = tuple(dict.fromkeys("".join(c.split()) for _, c in store.certs(entity_id, "idpsso", "signing")))
    if not certs:
        raise IdPError("The metadata has no signing certificate.")
    return IdPMetadata(entity_id, locations[0], certs, tuple(_load(c).not_valid_after_utc for c in certs))


def build(entity_id: str, sso_url: str, certificates: list[str]) -> str:
    """IdP metadata for an IdP configured by hand (entity ID + SSO URL + certificates), for pysaml2."""
    keys = "".join(
        '<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>'
        f"{escape(body)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
        for body in certificates
    )
    return (
        '<?xml version="1.0"?>'
        '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
        f'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID={quoteattr(entity_id)}>'
        '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        f"{keys}"
        f'<md:SingleSignOnService Binding="{BINDING_HTTP_REDIRECT}" Location={quoteattr(sso_url)}/>'
        "</md:IDPSSODescriptor></md:EntityDescriptor>"
    )


def idp_metadata_xml(connection) -> str:
    """The metadata pysaml2 is given for this connection: the stored document, or one built from the fields."""
    if connection.saml_metadata_xml.strip():
        return connection.saml_metadata_xml
    if not (connection.saml_idp_entity_id and connection.saml_idp_sso_url and connection.saml_idp_certificates):
        raise IdPError("The connection has neither IdP metadata nor an entity ID, SSO URL and certificate.")
    return build(
        connection.saml_idp_entity_id,
        connection.saml_idp_sso_url,
        split_certificates(connection.saml_idp_certificates),
    )


def current(connection) -> IdPMetadata:
    """The IdP's metadata as configured, checked (entity ID as stored, SSO URL allowed). Raises IdPError."""
    meta = parse(idp_metadata_xml(connection))
    if connection.saml_idp_entity_id and meta.entity_id != connection.saml_idp_entity_id:
        raise IdPError(
            f"The metadata names entity ID {meta.entity_id!r}, not {connection.saml_idp_entity_id!r}. Save the "
            "connection again to take the new entity ID (its links are then reset)."
        )
    http.check_url(meta.sso_url, "IdP single sign-on URL")
    return meta


def fetch(url: str) -> tuple[str, IdPMetadata]:
    """GET and parse metadata from ``url`` (SSRF rules, timeout, size cap). Raises IdPError/IdPUnreachable."""
    body = http.get_bytes(url, "IdP metadata", accept="application/samlmetadata+xml, application/xml, text/xml")
    try:
        xml = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise IdPError("The IdP metadata is not UTF-8 text.") from exc
    return xml, parse(xml)


def _refresh_lock_key(connection) -> str:
    return f"jeto:saml:{connection.pk}:metadata-refresh"


def refresh(connection, *, keep_entity_id: bool = True) -> IdPMetadata:
    """Fetch the metadata URL now and store it. With ``keep_entity_id``, a document naming another IdP is refused."""
    xml, meta = fetch(connection.saml_metadata_url)
    if keep_entity_id and connection.saml_idp_entity_id and meta.entity_id != connection.saml_idp_entity_id:
        raise IdPError(
            f"The metadata at the URL now names entity ID {meta.entity_id!r}, not {connection.saml_idp_entity_id!r}."
            " It was not applied: save the connection again in admin to repoint it."
        )
    connection.saml_metadata_xml = xml
    connection.saml_idp_entity_id = meta.entity_id
    connection.saml_metadata_fetched_at = timezone.now()
    if connection.pk:
        type(connection).objects.filter(pk=connection.pk).update(
            saml_metadata_xml=xml, saml_idp_entity_id=meta.entity_id, saml_metadata_fetched_at=timezone.now()
        )
    return meta


def refresh_if_stale(connection) -> None:
    """At sign-in: refetch metadata older than ``SSO_METADATA_CACHE_SECONDS`` (one node at a time). A failure
    keeps the last good copy and is logged; the sign-in goes on with it. Without any copy, the failure is raised."""
    if not connection.saml_metadata_url:
        return
    max_age = datetime.timedelta(seconds=int(jeto_settings.SSO_METADATA_CACHE_SECONDS))
    fetched = connection.saml_metadata_fetched_at
    if fetched is not None and timezone.now() - fetched < max_age and connection.saml_metadata_xml:
        return
    if not cache.add(_refresh_lock_key(connection), 1, 60):
        return
    try:
        refresh(connection)
    except IdPError as exc:
        if not connection.saml_metadata_xml:
            raise
        logger.warning("SAML metadata refresh for connection %s failed, keeping the last copy: %s", connection.pk, exc)
    finally:
        cache.delete(_refresh_lock_key(connection))


def certificate_pem(body: str) -> str:
    return f"{_PEM_BEGIN}\n{body}\n{_PEM_END}\n"
