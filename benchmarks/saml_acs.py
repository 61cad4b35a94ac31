"""Measure the SAML hot path: building a signed AuthnRequest and verifying an IdP's response at the ACS.

    python benchmarks/saml_acs.py --responses 50

No database or server: one unsaved connection, the test IdP (pysaml2's IdP side with a fresh key) and Django's
RequestFactory. Verification runs pysaml2 + the xmlsec1 program (one process per signature check or decryption),
which is most of the cost. Prints the median and 95th percentile per operation.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.sessions.backends.signed_cookies import SessionStore  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.test import RequestFactory  # noqa: E402

from jeto_identity.models import Organization, SAMLConnection  # noqa: E402
from jeto_identity.sso.saml import keys, service, sp  # noqa: E402
from tests.saml_support import TestIdP  # noqa: E402


def _request(factory: RequestFactory, session: SessionStore, method: str = "get", data: dict | None = None):
    request = getattr(factory, method)("/", data or {})
    request.session = session
    return request


def _figures(name: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return f"| {name} | {len(samples)} | {statistics.median(samples) * 1000:.1f} | {p95 * 1000:.1f} |"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--responses", type=int, default=50)
    args = parser.parse_args()
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "SSO_ALLOW_LOCAL_IDPS": True}
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    cache.clear()
    factory = RequestFactory()
    with tempfile.TemporaryDirectory() as tmp:
        idp = TestIdP(Path(tmp))
        connection = SAMLConnection(pk=1, organization=Organization(pk=1, name="Bench", slug="bench"), name="bench")
        connection.protocol = "saml"
        keys.ensure_keypair(connection)
        connection.saml_metadata_xml = idp.metadata_xml()
        connection.saml_idp_entity_id = idp.entity_id
        probe = _request(factory, SessionStore())
        idp.trust(sp.sp_metadata(probe, connection))
        entity_id, acs = sp.entity_id(probe, connection), sp.acs_url(probe, connection)
        results = {"AuthnRequest (signed, redirect)": [], "ACS: signed assertion": [], "ACS: signed + encrypted": []}
        for i in range(args.responses):
            session = SessionStore()
            began = time.perf_counter()
            url = service.start(_request(factory, session), connection)
            results["AuthnRequest (signed, redirect)"].append(time.perf_counter() - began)
            authn = idp.parse_request(url)
            encrypt = i % 2 == 1
            saml_response = idp.response(
                authn,
                name_id=f"user-{i}",
                attributes={"mail": [f"user{i}@bench.test"]},
                sp_entity_id=entity_id,
                acs_url=acs,
                encrypt_to=connection.saml_sp_certificate if encrypt else None,
            )
            request = _request(factory, session, "post", {"SAMLResponse": saml_response})
            began = time.perf_counter()
            consumed = service.consume(request, connection)
            elapsed = time.perf_counter() - began
            assert consumed.claims["sub"] == f"user-{i}"
            results["ACS: signed + encrypted" if encrypt else "ACS: signed assertion"].append(elapsed)
    print(f"SAML hot path, {os.cpu_count()} cores, xmlsec1 via pysaml2\n")
    print("| operation | n | median ms | p95 ms |")
    print("| --- | --- | --- | --- |")
    for name, samples in results.items():
        print(_figures(name, samples))


if __name__ == "__main__":
    main()
