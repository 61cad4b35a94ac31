"""scim2-tester, a compliance checker we did not write, run against a live server (every check it runs).

One server rule the tester cannot read from the schemas: a ``userName`` must be an address in one of the
organisation's verified domains. Its random value generator is wrapped so that ``userName`` and ``emails.value``
are random addresses in the test organisation's domain; everything else it generates and checks is its own.
"""

from __future__ import annotations

import uuid

import httpx2
import pytest
import scim2_tester.checkers.patch_add as patch_add
import scim2_tester.checkers.patch_replace as patch_replace
import scim2_tester.filling as filling
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

from jeto_identity.provisioning import tokens

pytestmark = pytest.mark.slow

PASSING = {Status.SUCCESS, Status.COMPLIANT, Status.ACCEPTABLE}


@pytest.fixture
def verified_usernames(monkeypatch):
    original = filling.generate_random_value

    def generate(context, path, mutability=None, required=None):
        value = original(context, path=path, mutability=mutability, required=required)
        name = str(path).rsplit(":", 1)[-1].lower()
        if value is not None and name in {"username", "emails.value"}:
            address = f"{uuid.uuid4().hex[:12]}@acme.test"
            return [address] if isinstance(value, list) else address
        return value

    for module in (filling, patch_add, patch_replace):  # the checkers import the function by name
        monkeypatch.setattr(module, "generate_random_value", generate)


@pytest.fixture
def scim_client(live_server, acme):
    issued = tokens.issue(acme, "scim2-tester")
    http = httpx2.Client(
        base_url=f"{live_server.url}/scim/v2",
        headers={"Authorization": f"Bearer {issued.secret}"},
        timeout=10,
    )
    yield SyncSCIMClient(http)
    http.close()


def test_scim2_tester_passes_every_check(scim_client, verified_usernames):
    results = check_server(scim_client, raise_exceptions=False)
    assert len(results) >= 100  # discovery, CRUD, attributes, PATCH add/replace/remove on Users and Groups, misc
    assert {r.title for r in results} >= {
        "object_creation",
        "object_replacement",
        "object_deletion",
        "random_url",
        "check_add_attribute",
        "check_remove_attribute",
        "check_replace_attribute",
        "search_with_attributes",
        "query_all_schemas",
    }
    failures = [(r.title, r.status.name, r.reason) for r in results if r.status not in PASSING]
    assert failures == []
