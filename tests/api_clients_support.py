"""Helpers and fixtures for the application-connection tests (import the fixtures you use)."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import quote_plus

import pytest

from jeto_identity.connections import services as clients

TOKEN_URL = "/o/token/"


def basic(client_id: str, secret: str) -> str:
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def request_token(client, client_id: str, secret: str, scope: str | None = None, method: str = "basic"):
    data = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    if method == "basic":
        return client.post(TOKEN_URL, data, HTTP_AUTHORIZATION=basic(client_id, secret))
    data.update(client_id=client_id, client_secret=secret)
    return client.post(TOKEN_URL, data)


def token_checksum(token: str) -> str:
    """How DOT finds a stored token (tokens are stored hashed, RFC 9700)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def get_token(client, issued: clients.IssuedSecret, scope: str | None = None) -> str:
    response = request_token(client, issued.client_id, issued.client_secret, scope)
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def api(client, path: str, token: str | None = None, method: str = "get", **kwargs):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return getattr(client, method)(f"/api/v1/{path}", **headers, **kwargs)


@pytest.fixture
def acme_conn(acme) -> clients.IssuedSecret:
    return clients.issue_client(organization=acme, name="Acme CRM", scopes="org:read members:read")


@pytest.fixture
def acme_writer(acme) -> clients.IssuedSecret:
    return clients.issue_client(organization=acme, name="Acme HR sync", scopes="org:read members:read members:write")


@pytest.fixture
def globex_conn(globex) -> clients.IssuedSecret:
    return clients.issue_client(organization=globex, name="Globex ERP", scopes="org:read members:read members:write")
