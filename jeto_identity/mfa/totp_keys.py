"""TOTP secrets encrypted at rest, inside django-otp's own ``key`` column.

``enc1:`` + base64url(AES-SIV(secret)), 53 characters, fits the 80-character column. AES-SIV is authenticated
(a tampered or swapped value fails to decrypt) and the owner's user id is bound in as associated data, so a
ciphertext copied onto another user's device is useless. Keys are the keyring's ``totp`` keys
(``jeto_identity.core.keys``: the first encrypts, every key decrypts). A plain hex key (a device made elsewhere,
e.g. in django-otp's admin) still works.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

from jeto_identity.core import keys

PREFIX = "enc1:"


class KeyDecryptionError(keys.UnreadableSecret):
    """No configured key decrypts this secret (keys rotated away, or the value was tampered with)."""


def _ciphers() -> list[AESSIV]:
    return [AESSIV(key) for key in keys.keys(keys.TOTP)]


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
    try:
        sealed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError) as exc:
        raise KeyDecryptionError("This device's stored secret is malformed.") from exc
    for cipher in _ciphers():
        try:
            return cipher.decrypt(sealed, _aad(user_id))
        except InvalidTag:
            continue
    raise KeyDecryptionError("No configured TOTP encryption key opens this device's secret.")


def reencrypt(stored: str, user_id: object) -> str | None:
    """``stored`` under the newest key, or None when it already is (or is a plain hex key, left as it is).

    AES-SIV is deterministic, so a value is current exactly when encrypting its secret again gives it back.
    """
    if not stored.startswith(PREFIX):
        return None
    fresh = encrypt(decrypt(stored, user_id), user_id)
    return None if fresh == stored else fresh
