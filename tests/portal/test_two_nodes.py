"""Two portal processes behind one imaginary load balancer, sharing PostgreSQL and Redis, behave as one."""

from __future__ import annotations

import pytest
import requests

from tests.portal import servers
from tests.portal.test_failure import _sign_in

pytestmark = pytest.mark.slow
PASSWORD = "a-long-passphrase-for-two-nodes"
LIMIT = 3
CREDENTIALS: list[str] = []  # the application connection's client ID and secret, set by the fixture


@pytest.fixture(scope="module")
def nodes():
    database_url, redis_url = servers.require_postgres_and_redis()
    with servers.scratch_postgres(database_url, "twonodes") as url:
        created = servers.manage(
            "shell",
            "-c",
            "from jeto_identity.models import Organization, User\n"
            "from jeto_identity.services import clients\n"
            f"User.objects.create_user('alice@example.test', '{PASSWORD}')\n"
            f"User.objects.create_user('bob@example.test', '{PASSWORD}')\n"
            "org = Organization.objects.create(name='Example', slug='example')\n"
            "issued = clients.issue_client(organization=org, name='sync', scopes='org:read')\n"
            "print('CLIENT', issued.client_id, issued.client_secret)",
            env={"DATABASE_URL": url},
        )
        client_line = next(line for line in created.stdout.splitlines() if line.startswith("CLIENT "))
        CREDENTIALS[:] = client_line.split()[1:3]
        env = {
            "DATABASE_URL": url,
            "REDIS_URL": redis_url,
            "CACHE_KEY_PREFIX": f"twonodes-{servers.free_port()}",  # no counters left over from other runs
            "LOGIN_FAILURE_LIMIT": str(LIMIT),
        }
        with servers.servers(2, env) as pair:
            yield pair


def test_sign_in_on_one_node_and_continue_on_the_other(nodes):
    a, b = nodes
    browser = requests.Session()
    assert _sign_in(browser, a.url, "alice@example.test", PASSWORD).status_code == 302
    page = browser.get(b.url + "/account/", timeout=10, allow_redirects=False)
    assert page.status_code == 200 and "alice@example.test" in page.text
    # Signing out on B ends the session everywhere.
    token = browser.cookies.get("csrftoken")
    browser.post(b.url + "/logout/", {"csrfmiddlewaretoken": token}, headers={"Referer": b.url}, timeout=10)
    assert browser.get(a.url + "/account/", timeout=10, allow_redirects=False).status_code == 302


def test_a_lockout_earned_on_one_node_holds_on_the_other(nodes):
    a, b = nodes
    for _ in range(LIMIT):
        _sign_in(requests.Session(), a.url, "bob@example.test", "not-bobs-password")
    # Right password, other node: still locked (the counters are in the shared Redis).
    locked = _sign_in(requests.Session(), b.url, "bob@example.test", PASSWORD)
    assert locked.status_code == 429
    assert "Too many attempts" in locked.text


def test_a_token_issued_by_one_node_is_accepted_by_the_other(nodes):
    a, b = nodes
    auth = tuple(CREDENTIALS)
    issued = requests.post(
        a.url + "/o/token/", {"grant_type": "client_credentials", "scope": "org:read"}, auth=auth, timeout=15
    )
    assert issued.status_code == 200, issued.text
    token = issued.json()["access_token"]
    seen = requests.post(b.url + "/o/introspect/", {"token": token}, auth=auth, timeout=15)
    assert seen.status_code == 200 and seen.json()["active"] is True
    assert seen.json()["scope"] == "org:read"
    # And the Jeto API on the other node accepts it as a bearer token.
    api = requests.get(b.url + "/api/v1/organization", headers={"Authorization": f"Bearer {token}"}, timeout=15)
    assert api.status_code == 200, api.text


def test_a_session_ended_on_one_node_is_signed_out_on_the_other(nodes):
    a, b = nodes
    laptop, phone = requests.Session(), requests.Session()
    assert _sign_in(laptop, a.url, "alice@example.test", PASSWORD).status_code == 302
    assert _sign_in(phone, b.url, "alice@example.test", PASSWORD).status_code == 302
    assert phone.get(b.url + "/account/", timeout=10, allow_redirects=False).status_code == 200  # B has seen it
    laptop.get(a.url + "/account/security/", timeout=10)
    token = laptop.cookies.get("csrftoken")
    ended = laptop.post(
        a.url + "/account/sessions/end-others/",
        {"csrfmiddlewaretoken": token},
        headers={"Referer": a.url},
        timeout=10,
        allow_redirects=False,
    )
    assert ended.status_code == 302
    assert phone.get(b.url + "/account/", timeout=10, allow_redirects=False).status_code == 302
    assert laptop.get(b.url + "/account/", timeout=10, allow_redirects=False).status_code == 200
