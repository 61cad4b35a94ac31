"""ID-token signing keys: where they come from, and how they are generated and rotated.

Free of Django so that ``config/settings.py`` can call it while settings load. The keys end up in
django-oauth-toolkit's ``OIDC_RSA_PRIVATE_KEY`` (signs new ID tokens) and ``OIDC_RSA_PRIVATE_KEYS_INACTIVE``
(still published in the JWKS so tokens signed before a rotation keep verifying).

Sources, first match wins:

1. ``OIDC_RSA_PRIVATE_KEY`` (PEM text) or ``OIDC_RSA_PRIVATE_KEY_FILE`` (path), with optional previous keys in
   ``OIDC_RSA_PREVIOUS_KEYS`` / ``OIDC_RSA_PREVIOUS_KEYS_FILE`` (one or more concatenated PEMs). For secret stores.
2. A key directory (``OIDC_KEY_DIR``): ``current.pem`` plus ``previous-*.pem``, managed by
   ``manage.py oidckeys rotate``.
3. Development only (``generate=True``): the key directory is created with a fresh key, once. The file is created
   atomically, so every process on the machine (runserver's reloader, gunicorn workers) signs with the same key.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

KEY_SIZE = 3072
CURRENT_NAME = "current.pem"
PREVIOUS_GLOB = "previous-*.pem"
_PEM_BLOCK = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.+?-----END [A-Z ]*PRIVATE KEY-----", re.S)


class SigningKeyError(Exception):
    """The configured signing key is missing or unusable."""


@dataclass
class SigningKeys:
    current: str = ""
    previous: list[str] = field(default_factory=list)
    source: str = ""


def generate_private_key_pem(key_size: int = KEY_SIZE) -> str:
    """A new RSA private key as unencrypted PKCS#8 PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")


def split_pems(text: str) -> list[str]:
    """Every private-key PEM block in ``text`` (previous keys may be concatenated in one value)."""
    return [block.strip() + "\n" for block in _PEM_BLOCK.findall(text or "")]


def check_rsa_private_key(pem: str) -> str:
    """Return ``pem`` if it is an RSA private key of at least 2048 bits, else raise SigningKeyError."""
    try:
        key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        raise SigningKeyError(f"not a readable unencrypted PEM private key ({exc.__class__.__name__})") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise SigningKeyError("the OIDC signing key must be an RSA key (ID tokens are RS256)")
    if key.key_size < 2048:
        raise SigningKeyError("the OIDC signing key must have at least 2048 bits")
    return pem


def _read(path: str | os.PathLike[str]) -> str:
    try:
        return Path(path).read_text(encoding="ascii")
    except OSError as exc:
        raise SigningKeyError(f"cannot read key file {path}: {exc.strerror}") from None


def _write_exclusive(path: Path, text: str) -> bool:
    """Create ``path`` with ``text`` (mode 0600) unless it exists; True if this call created it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".pem")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(text)
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, path)  # atomic and fails if another process won the race
        except FileExistsError:
            return False
        return True
    finally:
        os.unlink(tmp)


def read_key_dir(directory: str | os.PathLike[str]) -> SigningKeys:
    directory = Path(directory)
    current_path = directory / CURRENT_NAME
    if not current_path.exists():
        return SigningKeys()
    previous = [_read(p) for p in sorted(directory.glob(PREVIOUS_GLOB), reverse=True)]
    return SigningKeys(current=_read(current_path), previous=previous, source=str(directory))


def rotate_key_dir(directory: str | os.PathLike[str], keep: int = 1) -> SigningKeys:
    """Make a new current key; the old one becomes ``previous-<timestamp>.pem``. Keep ``keep`` previous keys."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    current_path = directory / CURRENT_NAME
    if current_path.exists():
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        os.replace(current_path, directory / f"previous-{stamp}.pem")
    _write_exclusive(current_path, generate_private_key_pem())
    prune_key_dir(directory, keep=keep)
    return read_key_dir(directory)


def prune_key_dir(directory: str | os.PathLike[str], keep: int = 1) -> list[Path]:
    """Delete all but the newest ``keep`` previous keys; returns the deleted paths."""
    previous = sorted(Path(directory).glob(PREVIOUS_GLOB), reverse=True)
    removed = previous[max(keep, 0) :]
    for path in removed:
        path.unlink()
    return removed


def load_signing_keys(
    *,
    pem: str = "",
    pem_file: str = "",
    previous: str = "",
    previous_file: str = "",
    key_dir: str | os.PathLike[str] = "",
    generate: bool = False,
) -> SigningKeys:
    """Resolve the signing keys from configuration (see the module docstring for the order)."""
    if pem or pem_file:
        current = pem.replace("\\n", "\n") if pem else _read(pem_file)
        previous_text = previous.replace("\\n", "\n") if previous else (_read(previous_file) if previous_file else "")
        keys = SigningKeys(
            current=current, previous=split_pems(previous_text), source="environment" if pem else str(pem_file)
        )
    elif key_dir:
        keys = read_key_dir(key_dir)
        if not keys.current and generate:
            _write_exclusive(Path(key_dir) / CURRENT_NAME, generate_private_key_pem())
            keys = read_key_dir(key_dir)
    else:
        keys = SigningKeys()
    if keys.current:
        check_rsa_private_key(keys.current)
        for old in keys.previous:
            check_rsa_private_key(old)
    return keys
