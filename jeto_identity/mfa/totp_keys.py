"""TOTP secrets encrypted at rest, inside django-otp's own ``key`` column.

``enc1:`` + base64url(AES-SIV(secret)), 53 characters, fits the 80-character column. AES-SIV is authenticated
(a tampered or swapped value fails to decrypt) and the owner's user id is bound in as associated data, so a
ciphertext copied onto another user's device is useless. Keys come from ``JETO_IDENTITY["TOTP_ENCRYPTION_KEYS"]``
(first encrypts, all decrypt: rotation) or, when that is empty, from ``SECRET_KEY`` and ``SECRET_KEY_FALLBACKS``.
A plain hex key (a device made elsewhere, e.g. in django-otp's admin) still works.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from jeto_identity.conf import jeto_settings

PREFIX = "enc1:"
_INFO = b"jeto_identity totp key encryption v1"


class KeyDecryptionError(Exception):
    """No configured key decrypts this secret (keys rotated away, or the value was tampered with)."""


def _derive(secret: str) -> AESSIV:
    raw = HKDF(algorithm=hashes.SHA256(), length=64, salt=None, info=_INFO).derive(secret.encode())
    return AESSIV(raw)


def _ciphers() -> list[AESSIV]:
    secrets = list(jeto_settings.TOTP_ENCRYPTION_KEYS) or [
        settings.SECRET_KEY,
        *getattr(settings, "SECRET_KEY_FALLBACKS", []),
    ]
    return [_derive(s) for s in secrets if s]


def _aad(user_id: object) -> list[bytes]:
    return [b"jeto_identity.totp", str(user_id).encode()]


def encrypt(key_bytes: bytes, user_id: object) -> str:
    sealed = _ciphers()[0].encrypt(key_bytes, _aad(user_id))
    return PREFIX + base64.urlsafe_b64encode(sealed).decode("ascii").rstrip("=")


def decrypt(stored: str, user_id: object) -> bytes:
    """The raw secret from the stored column value (encrypted, or legacy plain hex)."""
    if not stored.startswith(PREFIX):
        return binascii.unhexlify(stored.encode())
    body = stored[len(PREFIX) :]
    sealed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    for cipher in _ciphers():
        try:
            return cipher.decrypt(sealed, _aad(user_id))
        except InvalidTag:
            continue
    raise KeyDecryptionError("No configured TOTP encryption key opens this device's secret.")
