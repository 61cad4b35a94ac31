"""A real OpenID Provider on loopback for the SSO tests (the PyPI package oidc-provider-mock), and helpers.

tests/conftest.py imports the fixtures, so identity and e2e tests share them. SSO test modules also use
``sso_env`` (IdP metadata and JWKS are cached in Django's cache).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import oidc_provider_mock
import pytest
import requests
from django.core.cache import cache

from jeto_identity.models import SSOConnection

CLIENT_ID = "jeto-test-client"
CLIENT_SECRET = "idp-issued-client-secret-0123456789"


class IdP:
    """Handle on a running oidc-provider-mock server."""

    def __init__(self, server) -> None:
        self.server = server
        self.url = f"http://localhost:{server.server_port}"

    def put_user(self, sub: str, **claims) -> None:
        response = requests.put(f"{self.url}/users/{sub}", json=claims, timeout=5)
        assert response.status_code == 204, response.text

    def register_client(self, redirect_uri: str) -> tuple[str, str]:
        response = requests.post(
            f"{self.url}/oauth2/clients",
            json={"redirect_uris": [redirect_uri], "token_endpoint_auth_method": "client_secret_basic"},
            timeout=5,
        )
        assert response.status_code == 201, response.text
        return response.json()["client_id"], response.json()["client_secret"]

    def authorize(self, authorize_url: str, sub: str) -> str:
        """Sign ``sub`` in at the IdP's authorization page; returns where the IdP sends the browser back."""
        assert authorize_url.startswith(self.url + "/oauth2/authorize?"), authorize_url
        response = requests.post(authorize_url, data={"sub": sub}, allow_redirects=False, timeout=5)
        assert response.status_code == 302, response.text
        return response.headers["Location"]

    def deny(self, authorize_url: str) -> str:
        response = requests.post(authorize_url, data={"action": "deny"}, allow_redirects=False, timeout=5)
        assert response.status_code == 302, response.text
        return response.headers["Location"]


@pytest.fixture(scope="session")
def idp() -> Iterator[IdP]:
    with oidc_provider_mock.run_server_in_thread(require_nonce=True) as server:
        yield IdP(server)


@pytest.fixture(scope="session")
def strict_idp() -> Iterator[IdP]:
    """An IdP that only knows registered clients: it checks the secret, the auth method and the redirect URI."""
    with oidc_provider_mock.run_server_in_thread(require_nonce=True, require_client_registration=True) as server:
        yield IdP(server)


@pytest.fixture
def expired_token_idp() -> Iterator[IdP]:
    """An IdP whose ID tokens are already expired when issued (exp two minutes in the past)."""
    with oidc_provider_mock.run_server_in_thread(
        require_nonce=True, access_token_max_age=timedelta(minutes=-2)
    ) as server:
        yield IdP(server)


@pytest.fixture
def sso_env(settings):
    """SSO tests: an empty metadata/JWKS cache, and IdPs on http://localhost allowed (the test IdP is one)."""
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "SSO_ALLOW_LOCAL_IDPS": True}
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nobody listens on (connection refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def black_hole() -> Iterator[int]:
    """A port that accepts TCP connections and never answers (the IdP hangs)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()[1]


def make_connection(organization, issuer: str, **extra) -> SSOConnection:
    connection = SSOConnection(
        organization=organization,
        name=extra.pop("name", f"{organization.name} IdP"),
        issuer=issuer,
        client_id=extra.pop("client_id", CLIENT_ID),
        enabled=extra.pop("enabled", True),
        **extra,
    )
    connection.set_client_secret(CLIENT_SECRET)
    connection.save()
    return connection


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def start_sso(client, email: str, next_url: str = "") -> str:
    """Email step then our start view, with the Django test client; returns the IdP authorization URL."""
    response = client.post("/login/", {"email": email, "next": next_url})
    assert response.status_code == 302
    assert "/sso/" in response.url and response.url.endswith("/start/"), response.url
    response = client.get(response.url)
    assert response.status_code == 302, response.content
    return response.url


def sso_sign_in(client, idp: IdP, email: str, sub: str, next_url: str = ""):
    """The whole journey with the test client: email step -> IdP -> our callback. Returns the callback response."""
    authorize_url = start_sso(client, email, next_url)
    callback = idp.authorize(authorize_url, sub)
    return client.get(path_and_query(callback))
