"""Throttling works with whichever django-axes handler the host configured, not only the cache handler.

A host that adds axes without choosing ``AXES_HANDLER`` gets axes' database handler; the token endpoint must
still answer every successful client login, and lifting a lockout must still lift it.
"""

from __future__ import annotations

import base64

import pytest
from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from django.test import Client, override_settings

from jeto_identity.connections import services as clients
from jeto_identity.throttle import services as throttle
from tests.conftest import sign_in
from tests.identity.oidc_support import REDIRECT_URI, authorize_params, authorize_url, pkce_pair, query, register_rp

pytestmark = pytest.mark.django_db
HANDLERS = ["axes.handlers.database.AxesDatabaseHandler", "axes.handlers.cache.AxesCacheHandler"]
LIMIT = 3


@pytest.fixture(params=HANDLERS)
def axes_handler(request):
    """axes memoises its handler: build it under the override, and again after it."""
    with override_settings(AXES_HANDLER=request.param, AXES_FAILURE_LIMIT=LIMIT):
        AxesProxyHandler.get_implementation(force=True)
        yield request.param
    AxesProxyHandler.get_implementation(force=True)


@pytest.fixture
def api_client(acme):
    return clients.issue_client(organization=acme, name="Acme sync", scopes="org:read")


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def _client_credentials(issued, secret: str | None = None, ip: str = "10.9.0.1", client_id: str = ""):
    return Client(REMOTE_ADDR=ip, raise_request_exception=False).post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": "org:read"},
        HTTP_AUTHORIZATION=_basic(client_id or issued.client_id, issued.client_secret if secret is None else secret),
    )


def test_client_credentials_succeed(axes_handler, api_client):
    assert _client_credentials(api_client, "wrong").status_code == 401
    assert _client_credentials(api_client).status_code == 200
    assert _client_credentials(api_client).status_code == 200
    if axes_handler.endswith("AxesDatabaseHandler"):  # the success reset the client's failures
        assert not AccessAttempt.objects.filter(username=f"client:{api_client.client_id.lower()}").exists()


def test_code_exchange_succeeds(axes_handler, client, acme_member, password):
    registration = register_rp("Axes RP", trusted=True)
    sign_in(client, "max@acme.test", password)
    verifier, challenge = pkce_pair()
    code = query(client.get(authorize_url(authorize_params(registration.client.client_id, challenge)))["Location"])
    data = {"grant_type": "authorization_code", "code": code["code"], "redirect_uri": REDIRECT_URI}
    response = Client(raise_request_exception=False).post(
        "/o/token/",
        {**data, "code_verifier": verifier},
        HTTP_AUTHORIZATION=_basic(registration.client.client_id, registration.client_secret),
    )
    assert response.status_code == 200 and response.json()["id_token"]


def test_clearing_a_lockout_lifts_it(axes_handler, api_client):
    for i in range(LIMIT):
        _client_credentials(api_client, f"guess-{i}", ip=f"10.9.1.{i}")
    assert _client_credentials(api_client, ip="10.9.2.1").status_code == 429
    throttle.clear(username=f"{throttle.CLIENT_SECRET}:{api_client.client_id}")
    assert _client_credentials(api_client, ip="10.9.2.1").status_code == 200


def test_clearing_an_address_lifts_it(axes_handler, api_client):
    for i in range(LIMIT):  # spraying client IDs from one address
        _client_credentials(api_client, "x", ip="10.9.3.1", client_id=f"other-{i}")
    assert _client_credentials(api_client, ip="10.9.3.1").status_code == 429
    throttle.clear(ip_address="10.9.3.1")
    assert _client_credentials(api_client, ip="10.9.3.1").status_code == 200
