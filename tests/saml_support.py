"""A SAML identity provider for the tests: pysaml2's own IdP side (``saml2.server.Server``), with a key pair made
here, signing with Debian's xmlsec1 — the same way a real IdP signs, so our SP checks real signatures.

``TestIdP.response`` builds a response to one of our AuthnRequests; ``mutate`` edits the pysaml2 objects before
they are signed (the IdP signs the altered content: wrong audience, expired…), ``tamper`` edits the XML after
(the signature no longer covers it). The journeys against an IdP we did not write use SimpleSAMLphp
(``tests/simplesamlphp_support.py``).
"""

from __future__ import annotations

import base64
import datetime
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_REDIRECT, samlp
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NameID
from saml2.server import Server
from saml2.sigver import pre_signature_part, signed_instance_factory
from saml2.xmldsig import DIGEST_SHA1, DIGEST_SHA256, SIG_RSA_SHA1, SIG_RSA_SHA256

from jeto_identity.models import SAMLConnection
from tests.requirements import missing

IDP_ENTITY_ID = "https://idp.example.test/saml/metadata"
IDP_SSO_URL = "https://idp.example.test/saml/sso"
PASSWORD_CONTEXT = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"


def require_xmlsec1() -> str:
    """xmlsec1's path. In CI (CI=true) a missing xmlsec1 fails the test; elsewhere it skips with the fix."""
    path = shutil.which("xmlsec1")
    if path:
        return path
    missing("xmlsec1 is not installed (make test installs it: apt-get install xmlsec1)")  # fails in CI, else skips
    return ""


def make_keypair(directory: Path, name: str) -> tuple[Path, Path, str]:
    """A fresh RSA key and self-signed certificate in ``directory``: (key path, cert path, cert PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = directory / f"{name}.key", directory / f"{name}.crt"
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    cert_path.write_text(cert_pem)
    return key_path, cert_path, cert_pem


class TestIdP:
    """pysaml2's IdP, trusting one of our connections (by our SP metadata)."""

    __test__ = False

    def __init__(self, directory: Path, name: str = "idp", entity_id: str = IDP_ENTITY_ID) -> None:
        self.directory = directory
        self.entity_id = entity_id
        self.key_path, self.cert_path, self.cert_pem = make_keypair(directory, name)
        self.server: Server | None = None

    def _config(self, sp_metadata: str | None) -> IdPConfig:
        config = IdPConfig()
        config.load(
            {
                "entityid": self.entity_id,
                "xmlsec_binary": require_xmlsec1(),
                "key_file": str(self.key_path),
                "cert_file": str(self.cert_path),
                "encryption_keypairs": [{"key_file": str(self.key_path), "cert_file": str(self.cert_path)}],
                "allow_unknown_attributes": True,
                "metadata": {"inline": [sp_metadata]} if sp_metadata else {},
                "service": {
                    "idp": {
                        "endpoints": {"single_sign_on_service": [(IDP_SSO_URL, BINDING_HTTP_REDIRECT)]},
                        "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                        "want_authn_requests_signed": True,
                        "policy": {"default": {"lifetime": {"minutes": 5}, "attribute_restrictions": None}},
                    }
                },
            }
        )
        return config

    def metadata_xml(self) -> str:
        return create_metadata_string(None, config=self._config(None), valid=24 * 30, sign=False).decode()

    def trust(self, sp_metadata: str) -> None:
        """Load our SP metadata (what an IdP admin uploads)."""
        self.server = Server(config=self._config(sp_metadata))

    def parse_request(self, redirect_url: str) -> Any:
        """Read (and verify the signature of) an AuthnRequest sent by HTTP-Redirect."""
        assert self.server is not None
        assert redirect_url.startswith(IDP_SSO_URL + "?"), redirect_url
        query = {k: v[0] for k, v in parse_qs(urlsplit(redirect_url).query).items()}
        info = self.server.parse_authn_request(
            query["SAMLRequest"], BINDING_HTTP_REDIRECT, sigalg=query.get("SigAlg"), signature=query.get("Signature")
        )
        assert info is not None
        return info.message

    def response(
        self,
        request: Any | None,
        *,
        name_id: str,
        attributes: dict[str, list[str]],
        sp_entity_id: str,
        acs_url: str,
        sign: str = "assertion",
        sha1: bool = False,
        mutate: Callable[[Any], None] | None = None,
        tamper: Callable[[str], str] | None = None,
        encrypt_to: str | None = None,
    ) -> str:
        """A base64 SAMLResponse to ``request`` (None: unsolicited). ``sign``: assertion, response, both or none."""
        assert self.server is not None
        xml = self.server.create_authn_response(
            identity=attributes,
            in_response_to=request.id if request is not None else None,
            destination=acs_url,
            sp_entity_id=sp_entity_id,
            name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=name_id),
            authn={"class_ref": PASSWORD_CONTEXT, "authn_auth": self.entity_id},
            sign_response=False,
            sign_assertion=False,
        )
        response = samlp.response_from_string(str(xml))
        if mutate is not None:
            mutate(response)
        sign_alg, digest_alg = (SIG_RSA_SHA1, DIGEST_SHA1) if sha1 else (SIG_RSA_SHA256, DIGEST_SHA256)

        def template(ident: str):
            return pre_signature_part(ident, self.server.sec.my_cert, 1, sign_alg=sign_alg, digest_alg=digest_alg)

        out: Any = response
        to_sign = []
        assertion = response.assertion[0] if response.assertion else None
        if sign in ("assertion", "both") and assertion is not None:
            assertion.signature = template(assertion.id)
            to_sign.append((_class_name(assertion), assertion.id))
        if encrypt_to is not None:
            out = self._encrypt(response, to_sign, encrypt_to)
            to_sign = []
            if sign in ("response", "both"):
                out = samlp.response_from_string(out)
        if sign in ("response", "both"):
            out.signature = template(out.id)
            to_sign.append((_class_name(out), out.id))
        if to_sign:
            out = signed_instance_factory(out, self.server.sec, to_sign)
        out = out.decode() if isinstance(out, bytes) else str(out)
        if tamper is not None:
            out = tamper(out)
        return base64.b64encode(out.encode()).decode()

    def _encrypt(self, response: Any, to_sign: list, cert_pem: str) -> str:
        """Sign (as asked), then encrypt the assertion to ``cert_pem`` (AES-128, RSA-OAEP), as pysaml2's IdP does
        with the SP's encryption certificate."""
        from saml2.sigver import pre_encrypt_assertion, pre_encryption_part

        assert self.server is not None
        cert_file = self.directory / "encrypt-to.crt"
        cert_file.write_text(cert_pem)
        tag = response.assertion[0]._to_element_tree().tag
        xml = pre_encrypt_assertion(response).get_xml_string_with_self_contained_assertion_within_encrypted_assertion(
            tag
        )
        if to_sign:
            xml = signed_instance_factory(xml, self.server.sec, to_sign)
        aes = "http://www.w3.org/2001/04/xmlenc#aes128-cbc"
        encryption = str(pre_encryption_part(msg_enc=aes, encrypted_key_id="EK", encrypted_data_id="ED"))
        return self.server.sec.encrypt_assertion(xml, str(cert_file), encryption, key_type="aes-128", node_xpath=None)


def _class_name(instance: Any) -> str:
    return f"{instance.c_namespace}:{instance.c_tag}"


def make_saml_connection(organization, idp: TestIdP | None = None, **extra) -> SAMLConnection:
    connection = SAMLConnection(
        organization=organization,
        name=extra.pop("name", f"{organization.name} SAML"),
        enabled=extra.pop("enabled", True),
        **extra,
    )
    if idp is not None and not connection.saml_metadata_xml and not connection.saml_idp_certificates:
        connection.saml_metadata_xml = idp.metadata_xml()
        connection.saml_idp_entity_id = idp.entity_id
    connection.save()
    return connection


def sp_urls(connection) -> tuple[str, str]:
    """Our entity ID and ACS URL for ``connection`` as the Django test client's host sees them."""
    base = f"http://testserver/sso/{connection.public_id}/saml/"
    return base + "metadata/", base + "acs/"


class SAMLJourney:
    """Drives one connection's sign-ins with the Django test client and the test IdP."""

    def __init__(self, client, idp: TestIdP, connection) -> None:
        self.client = client
        self.idp = idp
        self.connection = connection
        self.entity_id, self.acs_url = sp_urls(connection)
        sp_metadata = client.get(f"/sso/{connection.public_id}/saml/metadata/")
        assert sp_metadata.status_code == 200, sp_metadata.content
        idp.trust(sp_metadata.content.decode())

    def start(self, email: str, next_url: str = "") -> Any:
        """Email step, then our start view: the AuthnRequest the IdP received (its signature verified)."""
        response = self.client.post("/login/", {"email": email, "next": next_url})
        assert response.status_code == 302 and response.url.endswith("/saml/start/"), response
        response = self.client.get(response.url)
        assert response.status_code == 302, response.content
        return self.idp.parse_request(response.url)

    def answer(self, request: Any | None, name_id: str, email: str | None = None, **options):
        attributes = options.pop("attributes", None)
        if attributes is None:
            attributes = {"mail": [email or name_id], "givenName": ["Sam"], "sn": ["Lee"]}
        return self.idp.response(
            request,
            name_id=name_id,
            attributes=attributes,
            sp_entity_id=self.entity_id,
            acs_url=self.acs_url,
            **options,
        )

    def post(self, saml_response: str, client=None):
        """POST to our ACS as the IdP's page does; without a session cookie our ACS answers with a page that posts
        the response again from our own origin, which a browser submits by itself: so does this."""
        client = client or self.client
        url = f"/sso/{self.connection.public_id}/saml/acs/"
        response = client.post(url, {"SAMLResponse": saml_response})
        if response.status_code == 200 and b"data-autosubmit" in response.content:
            response = client.post(url, {"SAMLResponse": saml_response, "jeto_continue": "1"})
        return response

    def sign_in(self, email: str, name_id: str, **options):
        request = self.start(email)
        return self.post(self.answer(request, name_id, email, **options))


@pytest.fixture
def saml_idp(tmp_path) -> TestIdP:
    require_xmlsec1()
    return TestIdP(tmp_path)


class MetadataServer:
    """Serves documents on loopback, as an IdP publishes its metadata (``documents[path] = bytes``)."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        documents: dict[str, bytes] = {}
        self.documents = documents
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                outer.hits += 1
                body = documents.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "application/samlmetadata+xml")
                self.end_headers()
                self.wfile.write(body or b"not found")

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def metadata_server():
    server = MetadataServer()
    yield server
    server.close()
