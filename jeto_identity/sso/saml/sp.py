"""pysaml2's service-provider side, configured per connection.

pysaml2 loads (and validates) the private key each time a client is made, which costs a few hundred milliseconds
for an RSA-3072 key, so each process keeps its clients, one per configuration (connection, host, metadata, key),
and makes a new one whenever any of them changes. xmlsec1 reads keys from files: a kept client's key pair lives in
a private directory (mode 0700, files 0600; in memory-backed ``/dev/shm`` where there is one) for as long as the
client is kept, and is removed when it is evicted and when the process exits. pysaml2 remembers every person it
saw in the client; that memory is dropped after each use.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from saml2 import BINDING_HTTP_POST
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.population import Population
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from jeto_identity.conf import jeto_settings
from jeto_identity.sso.http import IdPError
from jeto_identity.sso.saml import keys, metadata


def xmlsec_binary() -> str:
    """The xmlsec1 program (``SSO_SAML_XMLSEC1``, else found on PATH). Raises IdPError when it is missing."""
    configured = jeto_settings.SSO_SAML_XMLSEC1
    path = configured if configured and os.path.isfile(configured) else shutil.which(configured or "xmlsec1")
    if not path:
        raise IdPError("The xmlsec1 program is not installed on this server (Debian: apt-get install xmlsec1).")
    return path


def entity_id(request: HttpRequest, connection: Any) -> str:
    """Our entity ID for this connection: the URL of our metadata, one per connection."""
    return request.build_absolute_uri(
        reverse("jeto_identity:saml_metadata", kwargs={"connection_id": connection.public_id})
    )


def acs_url(request: HttpRequest, connection: Any) -> str:
    return request.build_absolute_uri(reverse("jeto_identity:saml_acs", kwargs={"connection_id": connection.public_id}))


def _config(request: HttpRequest, connection: Any, key_path: Path, cert_path: Path, idp_xml: str | None) -> SPConfig:
    sp = {
        "endpoints": {"assertion_consumer_service": [(acs_url(request, connection), BINDING_HTTP_POST)]},
        "allow_unsolicited": bool(connection.saml_allow_idp_initiated),
        "authn_requests_signed": bool(connection.saml_sign_requests),
        # A signature on the assertion, or on the response that contains it, is required.
        "want_assertions_signed": False,
        "want_response_signed": False,
        "want_assertions_or_response_signed": True,
        "name_id_format": [connection.saml_nameid_format],
        "name_id_format_allow_create": True,
        "signing_algorithm": SIG_RSA_SHA256,
        "digest_algorithm": DIGEST_SHA256,
    }
    config = {
        "entityid": entity_id(request, connection),
        "xmlsec_binary": xmlsec_binary(),
        "key_file": str(key_path),
        "cert_file": str(cert_path),
        "encryption_keypairs": [{"key_file": str(key_path), "cert_file": str(cert_path)}],
        "accepted_time_diff": int(jeto_settings.SSO_SAML_CLOCK_SKEW),
        "allow_unknown_attributes": True,
        "service": {"sp": sp},
        "delete_tmpfiles": True,
    }
    if idp_xml is not None:
        config["metadata"] = {"inline": [idp_xml]}
    sp_config = SPConfig()
    try:
        sp_config.load(config)
    except Exception as exc:  # pysaml2 raises many kinds (SAMLError, TooOld, ValueError…) on bad metadata
        raise IdPError(f"The IdP metadata can't be used: {exc.__class__.__name__}: {str(exc)[:200]}") from None
    return sp_config


@contextmanager
def _keypair_files(connection: Any) -> Iterator[tuple[Path, Path]]:
    with tempfile.TemporaryDirectory(prefix="jeto-saml-") as tmp:
        key_path, cert_path = Path(tmp) / "sp.key", Path(tmp) / "sp.crt"
        _write_private(key_path, keys.private_key(connection))
        _write_private(cert_path, connection.saml_sp_certificate)
        yield key_path, cert_path


MAX_CLIENTS = 32
_clients: OrderedDict[str, tuple[Saml2Client, threading.Lock, Path]] = OrderedDict()
_clients_lock = threading.Lock()
_key_root: Path | None = None


def _private_dir() -> Path:
    global _key_root
    if _key_root is None or not _key_root.is_dir():
        shm = Path("/dev/shm")  # noqa: S108  (mkdtemp makes a fresh 0700 directory; memory-backed, never on disk)
        base = str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None
        _key_root = Path(tempfile.mkdtemp(prefix="jeto-saml-", dir=base))  # mode 0700
        atexit.register(shutil.rmtree, str(_key_root), True)
    directory = Path(tempfile.mkdtemp(dir=_key_root))
    return directory


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def _fingerprint(request: HttpRequest, connection: Any, idp_xml: str) -> str:
    parts = [
        entity_id(request, connection),
        acs_url(request, connection),
        idp_xml,
        connection.saml_sp_key_encrypted,
        connection.saml_sp_certificate,
        connection.saml_allow_idp_initiated,
        connection.saml_sign_requests,
        connection.saml_nameid_format,
        jeto_settings.SSO_SAML_CLOCK_SKEW,
        jeto_settings.SSO_SAML_XMLSEC1,
    ]
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()


def _new_client(request: HttpRequest, connection: Any, idp_xml: str) -> tuple[Saml2Client, Path]:
    directory = _private_dir()
    try:
        key_path, cert_path = directory / "sp.key", directory / "sp.crt"
        _write_private(key_path, keys.private_key(connection))
        _write_private(cert_path, connection.saml_sp_certificate)
        return Saml2Client(config=_config(request, connection, key_path, cert_path, idp_xml)), directory
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise


@contextmanager
def client(request: HttpRequest, connection: Any) -> Iterator[Saml2Client]:
    """A pysaml2 client for this connection and request's host, kept per process while its configuration holds.
    Raises IdPError, ``crypto.DecryptionError``."""
    idp_xml = metadata.idp_metadata_xml(connection)
    fingerprint = _fingerprint(request, connection, idp_xml)
    with _clients_lock:
        entry = _clients.get(fingerprint)
        if entry is not None:
            _clients.move_to_end(fingerprint)
    if entry is None:
        made, directory = _new_client(request, connection, idp_xml)
        with _clients_lock:
            entry = _clients.setdefault(fingerprint, (made, threading.Lock(), directory))
            if entry[0] is not made:
                shutil.rmtree(directory, ignore_errors=True)
            while len(_clients) > MAX_CLIENTS:
                _, (_, _, old_directory) = _clients.popitem(last=False)
                shutil.rmtree(old_directory, ignore_errors=True)
    saml_client, lock, _ = entry
    with lock:
        try:
            yield saml_client
        finally:
            saml_client.users = Population()  # pysaml2 keeps everyone it saw: forget them


def sp_metadata(request: HttpRequest, connection: Any) -> str:
    """Our metadata for this connection (entity ID, ACS, NameID format, our certificate for signing and
    encryption), as the IdP's admin uploads it or as the IdP fetches it from our metadata URL."""
    with _keypair_files(connection) as (key_path, cert_path):
        config = _config(request, connection, key_path, cert_path, None)
        return create_metadata_string(None, config=config, valid=24 * 365, sign=False).decode()
