"""Application connections in Django admin: org-scoped create/list/rotate/revoke, secret shown exactly once."""

from __future__ import annotations

import logging
import re

import pytest
from django.contrib.admin.models import LogEntry
from oauth2_provider.models import get_access_token_model

from jeto_identity.connections import services as clients
from jeto_identity.models import ApplicationConnection, OAuthClient
from tests.api_clients_support import request_token, token_checksum

BASE = "/admin/jeto_identity/applicationconnection/"
AccessToken = get_access_token_model()


def _secret_from(page: bytes) -> tuple[str, str]:
    html = page.decode()
    client_id = re.search(r'<code id="client-id">([^<]+)</code>', html).group(1)
    secret = re.search(r'<code id="client-secret">([^<]+)</code>', html).group(1)
    return client_id, secret


def _create(client, org, **extra):
    data = {
        "name": "Billing sync",
        "organization": org.pk,
        "description": "Nightly export",
        "scopes": ["org:read", "members:read"],
        "access_token_lifetime": "600",
        **extra,
    }
    return client.post(f"{BASE}add/", data)


@pytest.fixture
def as_acme_admin(client, acme_admin):
    client.force_login(acme_admin)
    return client


def test_org_admin_creates_a_connection_and_sees_the_secret_once(as_acme_admin, acme, acme_admin, caplog):
    caplog.set_level(logging.DEBUG)
    response = _create(as_acme_admin, acme)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert b"It will not be shown again" in response.content
    client_id, secret = _secret_from(response.content)

    conn = ApplicationConnection.objects.get(client_id=client_id)
    assert conn.organization == acme and conn.created_by == acme_admin
    assert conn.allowed_scopes == "members:read org:read" and conn.access_token_lifetime == 600
    assert conn.client_type == OAuthClient.CLIENT_CONFIDENTIAL
    assert secret not in conn.client_secret and clients.check_client_secret(conn, secret)

    # Never again: not on the change page, the list, the history, the log entries, or the logs.
    for url in (BASE, f"{BASE}{conn.pk}/change/", f"{BASE}{conn.pk}/history/", f"{BASE}{conn.pk}/rotate/"):
        page = as_acme_admin.get(url)
        assert page.status_code == 200, url
        assert secret.encode() not in page.content
        assert conn.client_secret.encode() not in page.content  # nor its hash
    assert all(secret not in (e.change_message + e.object_repr) for e in LogEntry.objects.all())
    assert secret not in caplog.text

    # And it works.
    token = request_token(as_acme_admin, client_id, secret)
    assert token.status_code == 200 and token.json()["expires_in"] == 600


def test_org_admin_cannot_create_for_another_organisation(as_acme_admin, globex):
    response = _create(as_acme_admin, globex)
    assert response.status_code == 200
    assert b"client-secret" not in response.content
    assert b"Select a valid choice" in response.content
    assert not OAuthClient.objects.exists()


def test_unknown_scope_is_rejected_in_the_form(as_acme_admin, acme):
    response = _create(as_acme_admin, acme, scopes=["org:read", "root"])
    assert b"client-secret" not in response.content
    assert not OAuthClient.objects.exists()


def test_list_shows_only_own_organisation(as_acme_admin, acme_conn, globex_conn):
    page = as_acme_admin.get(BASE).content.decode()
    assert "Acme CRM" in page and "Globex ERP" not in page
    assert globex_conn.client_id not in page


@pytest.mark.parametrize("suffix", ["change/", "rotate/", "revoke/", "delete/", "history/"])
def test_other_organisations_client_is_404_even_by_url(as_acme_admin, globex_conn, suffix):
    url = f"{BASE}{globex_conn.client.pk}/{suffix}"
    assert as_acme_admin.get(url).status_code == 404
    assert as_acme_admin.post(url, {"post": "yes"}).status_code == 404
    c = OAuthClient.objects.get(pk=globex_conn.client.pk)
    assert c.enabled and c.secret_rotated_at is None
    assert clients.check_client_secret(c, globex_conn.client_secret)


def test_rotate_shows_the_new_secret_once_and_the_old_one_keeps_working(as_acme_admin, acme_conn):
    assert as_acme_admin.get(f"{BASE}{acme_conn.client.pk}/rotate/").status_code == 200
    response = as_acme_admin.post(f"{BASE}{acme_conn.client.pk}/rotate/")
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert b"It will not be shown again" in response.content and b"keeps working until" in response.content
    client_id, new_secret = _secret_from(response.content)
    assert client_id == acme_conn.client_id and new_secret != acme_conn.client_secret
    assert request_token(as_acme_admin, client_id, acme_conn.client_secret).status_code == 200
    assert request_token(as_acme_admin, client_id, new_secret).status_code == 200
    assert new_secret.encode() not in as_acme_admin.get(f"{BASE}{acme_conn.client.pk}/change/").content


def test_rotate_ending_the_old_secret_now(as_acme_admin, acme_conn):
    response = as_acme_admin.post(f"{BASE}{acme_conn.client.pk}/rotate/", {"end_old_secret_now": "1"})
    _, new_secret = _secret_from(response.content)
    assert b"previous secret no longer works" in response.content
    assert request_token(as_acme_admin, acme_conn.client_id, acme_conn.client_secret).status_code == 401
    assert request_token(as_acme_admin, acme_conn.client_id, new_secret).status_code == 200


def test_rotate_needs_a_post(as_acme_admin, acme_conn):
    page = as_acme_admin.get(f"{BASE}{acme_conn.client.pk}/rotate/")
    assert b"client-secret" not in page.content
    assert OAuthClient.objects.get(pk=acme_conn.client.pk).secret_rotated_at is None


def test_revoke_disables_and_kills_tokens(as_acme_admin, acme_conn):
    token = request_token(as_acme_admin, acme_conn.client_id, acme_conn.client_secret).json()["access_token"]
    assert AccessToken.objects.filter(token_checksum=token_checksum(token)).exists()
    response = as_acme_admin.post(f"{BASE}{acme_conn.client.pk}/revoke/")
    assert response.status_code == 302
    assert not OAuthClient.objects.get(pk=acme_conn.client.pk).enabled
    assert not AccessToken.objects.exists()
    assert request_token(as_acme_admin, acme_conn.client_id, acme_conn.client_secret).status_code == 401


def test_unticking_enabled_in_the_change_form_kills_tokens(as_acme_admin, acme_conn):
    request_token(as_acme_admin, acme_conn.client_id, acme_conn.client_secret)
    assert AccessToken.objects.exists()
    data = {"name": "Acme CRM", "description": "", "scopes": ["org:read"], "access_token_lifetime": ""}
    response = as_acme_admin.post(f"{BASE}{acme_conn.client.pk}/change/", data)  # 'enabled' unticked
    assert response.status_code == 302
    c = OAuthClient.objects.get(pk=acme_conn.client.pk)
    assert not c.enabled and c.allowed_scopes == "org:read"
    assert not AccessToken.objects.exists()  # re-enabling the client brings none of them back


def test_delete_kills_tokens(as_acme_admin, acme_conn):
    request_token(as_acme_admin, acme_conn.client_id, acme_conn.client_secret)
    response = as_acme_admin.post(f"{BASE}{acme_conn.client.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not OAuthClient.objects.exists() and not AccessToken.objects.exists()


def test_members_and_strangers_cannot_reach_connections(client, acme_member, acme_conn):
    client.force_login(acme_member)
    assert client.get(BASE).status_code == 302  # not staff: Django admin sends them to its sign-in page
    assert client.get(f"{BASE}{acme_conn.client.pk}/rotate/").status_code == 302


def test_superuser_sees_every_organisation(client, superuser, acme_conn, globex_conn):
    client.force_login(superuser)
    page = client.get(BASE).content.decode()
    assert "Acme CRM" in page and "Globex ERP" in page


def test_relying_parties_are_not_listed_as_connections(as_acme_admin, acme):
    OAuthClient.objects.create(
        name="Acme web app",
        organization=acme,
        client_type=OAuthClient.CLIENT_CONFIDENTIAL,
        authorization_grant_type=OAuthClient.GRANT_AUTHORIZATION_CODE,
        redirect_uris="https://app.example/cb",
    )
    assert "Acme web app" not in as_acme_admin.get(BASE).content.decode()


def test_change_page_offers_rotate_and_revoke_but_no_view_on_site(as_acme_admin, acme_conn):
    page = as_acme_admin.get(f"{BASE}{acme_conn.client.pk}/change/").content.decode()
    assert 'id="rotate-secret"' in page and 'id="revoke-client"' in page
    assert "viewsitelink" not in page
