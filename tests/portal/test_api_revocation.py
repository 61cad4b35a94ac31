"""The Jeto API refuses a token at once when the process that revoked it answers (its token cache forgets it).

Revoking in admin, unticking ``enabled``, deleting the connection or RFC 7009 revocation: the app deletes the
tokens; the portal's ``bearer`` receiver drops them from its cache on ``post_delete``.
"""

from __future__ import annotations

import pytest

from tests.api_clients_support import api, basic, get_token

BASE = "/admin/jeto_identity/applicationconnection/"


@pytest.fixture
def as_acme_admin(client, acme_admin):
    client.force_login(acme_admin)
    return client


def _cached_token(client, issued) -> str:
    token = get_token(client, issued)
    assert api(client, "organization", token).status_code == 200  # now in this process's cache
    return token


def test_revoked_in_admin(as_acme_admin, acme_conn):
    token = _cached_token(as_acme_admin, acme_conn)
    assert as_acme_admin.post(f"{BASE}{acme_conn.client.pk}/revoke/").status_code == 302
    assert api(as_acme_admin, "organization", token).status_code == 401


def test_disabled_in_the_change_form(as_acme_admin, acme_conn):
    token = _cached_token(as_acme_admin, acme_conn)
    data = {"name": "Acme CRM", "description": "", "scopes": ["org:read"], "access_token_lifetime": ""}
    assert as_acme_admin.post(f"{BASE}{acme_conn.client.pk}/change/", data).status_code == 302  # 'enabled' unticked
    assert api(as_acme_admin, "organization", token).status_code == 401


def test_connection_deleted(as_acme_admin, acme_conn):
    token = _cached_token(as_acme_admin, acme_conn)
    assert as_acme_admin.post(f"{BASE}{acme_conn.client.pk}/delete/", {"post": "yes"}).status_code == 302
    assert api(as_acme_admin, "organization", token).status_code == 401


def test_revoked_at_the_revocation_endpoint(client, acme_conn):
    token = _cached_token(client, acme_conn)
    auth = basic(acme_conn.client_id, acme_conn.client_secret)
    assert client.post("/o/revoke/", {"token": token}, HTTP_AUTHORIZATION=auth).status_code == 200
    assert api(client, "organization", token).status_code == 401
