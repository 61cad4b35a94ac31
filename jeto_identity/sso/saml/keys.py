"""Our (the service provider's) key pair per SAML connection: signs AuthnRequests, decrypts encrypted assertions.

Generated when the connection is first saved; the private key is stored encrypted with the IdP-secret key
(``core.crypto``), the certificate (self-signed, as SAML metadata expects) in the clear.
"""

from __future__ import annotations

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from jeto_identity.core import crypto

KEY_BITS = 3072
CERT_YEARS = 10


def generate_keypair(common_name: str) -> tuple[str, str]:
    """A new RSA key and a self-signed certificate for it, both PEM: ``(private_key, certificate)``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64] or "Jeto SAML SP")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=365 * CERT_YEARS))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode()


def ensure_keypair(connection) -> bool:
    """Give the connection a key pair if it has none. Returns True when one was made (the caller saves)."""
    if connection.saml_sp_key_encrypted and connection.saml_sp_certificate:
        return False
    key_pem, cert_pem = generate_keypair(f"Jeto SAML SP {connection.public_id}")
    connection.saml_sp_key_encrypted = crypto.encrypt(key_pem)
    connection.saml_sp_certificate = cert_pem
    return True


def private_key(connection) -> str:
    """The PEM private key. Raises ``crypto.DecryptionError`` when the key it was encrypted with is gone."""
    return crypto.decrypt(connection.saml_sp_key_encrypted)


def certificate_body(pem: str) -> str:
    """A PEM certificate's base64 body on one line (as metadata and IdP forms want it)."""
    lines = [line.strip() for line in pem.strip().splitlines()]
    return "".join(line for line in lines if line and not line.startswith("-----"))
