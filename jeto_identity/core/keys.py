"""The one keyring: every key that protects a secret at rest, derived and rotated by one rule.

Purposes, each with keys of its own (one secret never yields the same key for two purposes):

* ``totp``: encrypts TOTP secrets (AES-SIV, ``jeto_identity.mfa.totp_keys``);
* ``idp_secret``: encrypts IdP client secrets (Fernet, ``jeto_identity.core.crypto``);
* ``client_secret_pepper``: keys the hash of application connections' secrets (``core.hashers``);
* ``recovery_code``: keys the hash of MFA recovery codes.

**The rule**, the same for every purpose: the purpose's configured secrets, newest first; the entry
``"SECRET_KEY"``, or no configured secret at all, stands for ``SECRET_KEY`` then each of
``SECRET_KEY_FALLBACKS``. The first key writes, every key reads. So rotating ``SECRET_KEY`` the Django way (the
old one moved to the fallbacks) never breaks a stored secret, and ``manage.py jeto_rotate_keys`` re-encrypts
what can be re-encrypted under the newest key before an old one is dropped (docs/key-rotation.md).

Configured secrets come from the adapter's ``key_material(purpose)``; by default ``JETO_IDENTITY["KEYS"][purpose]``
or the purpose's older setting (``TOTP_ENCRYPTION_KEYS``, ``FIELD_ENCRYPTION_KEYS``, ``CLIENT_SECRET_PEPPER``).
Each secret becomes a key through the purpose's fixed derivation, the one its stored values were written with.

**Parsing.** In ``KEYS`` a string is comma-separated and each secret is stripped of surrounding spaces. An older
setting keeps the parsing it always had, since a secret parsed differently derives a different key and stored
values would stop opening: ``TOTP_ENCRYPTION_KEYS`` and ``CLIENT_SECRET_PEPPER`` entries are used as given (a
leading space is part of the secret; a ``CLIENT_SECRET_PEPPER`` string is one secret, commas included), and
``FIELD_ENCRYPTION_KEYS`` is split and stripped as before. The adapter's ``key_material`` list is used as given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, QuerySet
from django.utils.crypto import salted_hmac
from django.utils.encoding import force_bytes

from jeto_identity.conf import jeto_settings

TOTP = "totp"
IDP_SECRET = "idp_secret"
CLIENT_SECRET_PEPPER = "client_secret_pepper"
RECOVERY_CODE = "recovery_code"
# In a purpose's list: the keys derived from SECRET_KEY and SECRET_KEY_FALLBACKS, at that position.
FROM_SECRET_KEY = "SECRET_KEY"


class UnreadableSecret(Exception):
    """No key of its purpose opens a stored value (its key was dropped, or the value was tampered with)."""


def _hkdf(length: int, info: bytes) -> Callable[[bytes], bytes]:
    def derive(secret: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(secret)

    return derive


def _as_is(secret: bytes) -> bytes:
    return secret


def _pepper_from_secret_key(secret_key: bytes) -> bytes:
    return salted_hmac("jeto_identity.client_secret_pepper", "", secret=secret_key, algorithm="sha256").digest()


_totp = _hkdf(64, b"jeto_identity totp key encryption v1")
_field = _hkdf(32, b"jeto-identity field encryption v1")


def normalize(value: Any) -> list[str | bytes]:
    """A ``KEYS`` value as a list of secrets: a string is comma-separated, bytes are one secret; items stripped."""
    if not value:
        return []
    if isinstance(value, bytes):
        return [value]
    if isinstance(value, str):
        value = value.split(",")
    items = [v.strip() if isinstance(v, str) else bytes(v) for v in value if v]
    return [v for v in items if v]


def _as_given(value: Any) -> list[str | bytes]:
    """A list of secrets used exactly as given (empty entries dropped); a string or bytes is one secret."""
    if not value:
        return []
    if isinstance(value, str | bytes):
        return [value]
    return [v if isinstance(v, str | bytes) else bytes(v) for v in value if v]


def _legacy_totp(value: Any) -> list[str | bytes]:
    """``TOTP_ENCRYPTION_KEYS`` as the TOTP code read it: ``list(value)``, entries unstripped.

    That made a string into one secret per character; a string now writes as one secret, and its characters still
    read what was written under them (``manage.py jeto_rotate_keys`` moves those values to the whole string).
    """
    if isinstance(value, str) and value:
        return [value, *(c for c in value if c != value)]
    return _as_given(value)


def _legacy_pepper(value: Any) -> list[str | bytes]:
    """``CLIENT_SECRET_PEPPER`` as the hasher read it: a string is one pepper (commas and spaces included)."""
    return _as_given(value)


@dataclass(frozen=True)
class Purpose:
    """One family of keys: the setting it was configured with before ``KEYS``, and how a secret becomes a key."""

    name: str
    legacy_setting: str | None
    from_configured: Callable[[bytes], bytes]
    from_secret_key: Callable[[bytes], bytes]
    legacy_parse: Callable[[Any], list[str | bytes]] = normalize


PURPOSES: dict[str, Purpose] = {
    p.name: p
    for p in (
        Purpose(TOTP, "TOTP_ENCRYPTION_KEYS", _totp, _totp, _legacy_totp),
        Purpose(IDP_SECRET, "FIELD_ENCRYPTION_KEYS", _field, lambda k: _field(b"derived-from-secret-key:" + k)),
        Purpose(CLIENT_SECRET_PEPPER, "CLIENT_SECRET_PEPPER", _as_is, _pepper_from_secret_key, _legacy_pepper),
        Purpose(RECOVERY_CODE, None, _as_is, _as_is),  # the secret of salted_hmac, as Django's own tokens use it
    )
}


def _purpose(name: str) -> Purpose:
    try:
        return PURPOSES[name]
    except KeyError:
        raise ImproperlyConfigured(f"Unknown key purpose {name!r}; known: {', '.join(PURPOSES)}.") from None


def _configured_in(values: dict[str, Any], purpose: str) -> list[str | bytes]:
    spec = _purpose(purpose)
    new = normalize((values.get("KEYS") or {}).get(purpose))
    old = spec.legacy_parse(values.get(spec.legacy_setting)) if spec.legacy_setting else []
    if new and old and new != old:
        raise ImproperlyConfigured(
            f"JETO_IDENTITY['KEYS'][{purpose!r}] and JETO_IDENTITY[{spec.legacy_setting!r}] are both set: keep one."
        )
    return new or old


def check_settings(values: dict[str, Any]) -> None:
    """Raise ImproperlyConfigured for an unknown purpose in ``KEYS`` or a purpose configured under two names."""
    given = values.get("KEYS") or {}
    if not isinstance(given, dict):
        raise ImproperlyConfigured("JETO_IDENTITY['KEYS'] must be a dict: purpose -> secrets, newest first.")
    for purpose in [*given, *PURPOSES]:
        _configured_in(values, purpose)


def configured(purpose: str) -> list[str | bytes]:
    """The purpose's secrets from settings, newest first: ``KEYS[purpose]``, else its older setting."""
    values = {"KEYS": jeto_settings.KEYS}
    legacy = _purpose(purpose).legacy_setting
    if legacy:
        values[legacy] = getattr(jeto_settings, legacy)
    return _configured_in(values, purpose)


def _material(purpose: str) -> tuple[bytes, ...]:
    from jeto_identity.adapter import get_adapter

    material = get_adapter().key_material(purpose)
    # A string from an adapter is comma-separated; a list is used as given (configured() already parsed it).
    return tuple(force_bytes(v) for v in (normalize(material) if isinstance(material, str) else _as_given(material)))


def keys(purpose: str) -> list[bytes]:
    """The purpose's keys, newest first: the first writes, every one reads."""
    secret_keys = (settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", ()))
    return list(_derive(_purpose(purpose).name, _material(purpose), tuple(force_bytes(k) for k in secret_keys)))


@lru_cache(maxsize=64)
def _derive(purpose: str, material: tuple[bytes, ...], secret_keys: tuple[bytes, ...]) -> tuple[bytes, ...]:
    spec = PURPOSES[purpose]
    derived: list[bytes] = []
    for secret in material or (FROM_SECRET_KEY.encode(),):
        if secret == FROM_SECRET_KEY.encode():
            derived.extend(spec.from_secret_key(k) for k in secret_keys if k)
        else:
            derived.append(spec.from_configured(secret))
    return tuple(dict.fromkeys(derived))


def has_own_key(purpose: str) -> bool:
    """Does the purpose write with a secret of its own (not one derived from SECRET_KEY)?"""
    material = _material(purpose)
    return bool(material) and material[0] != FROM_SECRET_KEY.encode()


# ---- re-encryption under the newest key (manage.py jeto_rotate_keys) ---------------------------------------------


@dataclass
class Rotation:
    """What a re-encryption pass did to one column."""

    purpose: str
    rotated: int = 0
    current: int = 0
    unreadable: list[Any] = field(default_factory=list)  # primary keys of values no configured key opens


def rotate_column(
    purpose: str,
    rows: QuerySet | Iterable[Model],
    column: str,
    reencrypt: Callable[[Model], str | None],
    *,
    dry_run: bool = False,
) -> Rotation:
    """Rewrite ``column`` of each row with ``reencrypt(row)`` (None: already under the newest key).

    Each write is conditional on the value read (compare-and-swap), so a value changed meanwhile by a web node is
    left alone; no model signal is sent (nothing about the row changes but its ciphertext).
    """
    result = Rotation(purpose)
    for row in rows.iterator() if isinstance(rows, QuerySet) else rows:
        stored = getattr(row, column)
        try:
            fresh = reencrypt(row)
        except UnreadableSecret:
            result.unreadable.append(row.pk)
            continue
        if fresh is None:
            result.current += 1
            continue
        if not dry_run:
            manager = type(row)._default_manager
            if not manager.filter(pk=row.pk, **{column: stored}).update(**{column: fresh}):
                continue
        result.rotated += 1
    return result
