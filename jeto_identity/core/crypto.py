"""Encryption at rest for secrets we must be able to read back (an IdP's client secret).

Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) with keys from ``JETO_IDENTITY["FIELD_ENCRYPTION_KEYS"]``.
Each configured string goes through HKDF-SHA256, so an operator can use any long random string; the first key
encrypts, all keys decrypt (rotation: prepend a new key, re-save the secrets, then drop the old key).
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from jeto_identity.conf import jeto_settings

_INFO = b"jeto-identity field encryption v1"


class DecryptionError(Exception):
    """The value was encrypted with a key that is no longer configured, or was tampered with."""


def _derive(material: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(material.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def configured_keys() -> list[str]:
    keys = jeto_settings.FIELD_ENCRYPTION_KEYS
    if isinstance(keys, str):
        keys = [k for k in keys.split(",") if k.strip()]
    return [k.strip() for k in keys if k and k.strip()]


def _box() -> MultiFernet:
    keys = configured_keys() or [f"derived-from-secret-key:{settings.SECRET_KEY}"]
    return MultiFernet([_derive(k) for k in keys])


def encrypt(plaintext: str) -> str:
    return _box().encrypt(plaintext.encode()).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _box().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError, ValueError) as exc:
        raise DecryptionError("Stored secret can't be decrypted with the configured keys.") from exc
