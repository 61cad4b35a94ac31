"""Encryption at rest for secrets we must be able to read back (an IdP's client secret).

Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) under the keyring's ``idp_secret`` keys
(``jeto_identity.core.keys``): the first key encrypts, every key decrypts, ``reencrypt`` moves a token to the newest.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from jeto_identity.core import keys


class DecryptionError(keys.UnreadableSecret):
    """The value was encrypted with a key that is no longer configured, or was tampered with."""


def _fernets() -> list[Fernet]:
    return [Fernet(base64.urlsafe_b64encode(key)) for key in keys.keys(keys.IDP_SECRET)]


def encrypt(plaintext: str) -> str:
    return _fernets()[0].encrypt(plaintext.encode()).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return MultiFernet(_fernets()).decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError, ValueError) as exc:
        raise DecryptionError("Stored secret can't be decrypted with the configured keys.") from exc


def reencrypt(token: str) -> str | None:
    """``token`` under the newest key, or None when it already is. Raises ``DecryptionError`` when unreadable."""
    try:
        _fernets()[0].decrypt(token.encode("ascii"))
        return None
    except (InvalidToken, UnicodeError, ValueError):
        return encrypt(decrypt(token))
