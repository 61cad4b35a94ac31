"""Two simultaneous redemptions of one authorization code: exactly one wins, and the loser's replay revokes it.

Needs row locks (SELECT ... FOR UPDATE), so it runs on PostgreSQL, which CI uses; SQLite has no row locks.
"""

from __future__ import annotations

import threading

import pytest
import requests

from tests.identity.oidc_support import (
    REDIRECT_URI,
    UserAgent,
    authorize_params,
    authorize_url,
    pkce_pair,
    query,
    register_rp,
)
from tests.requirements import require_postgresql


@pytest.fixture(autouse=True)
def postgres_only():
    """Row locks need PostgreSQL: skipped on a newcomer's SQLite run, a failure in CI (never a silent skip)."""
    require_postgresql("the concurrent code-redemption test needs PostgreSQL's row locks")


def test_concurrent_redemptions_of_one_code(live_server, acme_member, password):
    registration = register_rp("Racy RP", trusted=True)
    agent = UserAgent(live_server.url)
    verifier, challenge = pkce_pair()
    first = agent.get(authorize_url(authorize_params(registration.client.client_id, challenge)))
    landed = agent.follow(agent.sign_in(first, "max@acme.test", password), REDIRECT_URI)
    code = query(landed.headers["Location"])["code"]

    results: list[requests.Response] = []
    barrier = threading.Barrier(4)

    def redeem():
        barrier.wait()
        results.append(
            requests.post(
                f"{live_server.url}/o/token/",
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": REDIRECT_URI,
                    "code_verifier": verifier,
                },
                auth=(registration.client.client_id, registration.client_secret),
                timeout=20,
            )
        )

    threads = [threading.Thread(target=redeem) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200, 400, 400, 400], [r.text for r in results]
    winner = next(r for r in results if r.status_code == 200).json()
    assert all(r.json()["error"] == "invalid_grant" for r in results if r.status_code == 400)
    # The replays revoked what the winning redemption issued.
    userinfo = requests.get(
        f"{live_server.url}/o/userinfo/", headers={"Authorization": f"Bearer {winner['access_token']}"}, timeout=10
    )
    assert userinfo.status_code == 401
