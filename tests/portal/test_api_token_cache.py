"""The Jeto API answers from its bearer-token cache: no query while a token is cached, changes within the bound."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from oauth2_provider.models import get_access_token_model

from jeto_identity.models import Organization
from jeto_portal.api import bearer
from tests.api_clients_support import api, get_token


@pytest.mark.django_db
def test_organisation_endpoint_needs_no_query_while_the_token_is_cached(client, acme_conn):
    token = get_token(client, acme_conn)
    assert api(client, "organization", token).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        response = api(client, "organization", token)
    assert response.status_code == 200 and response.json()["name"] == "Acme"
    assert [q["sql"] for q in queries.captured_queries] == []


@pytest.mark.django_db
def test_organisation_changes_show_within_the_cache_bound(client, acme_conn, acme, monkeypatch):
    token = get_token(client, acme_conn)
    assert api(client, "organization", token).json()["name"] == "Acme"
    Organization.objects.filter(pk=acme.pk).update(name="Acme Corp", mfa_required=True)
    real = time.monotonic
    monkeypatch.setattr(bearer.time, "monotonic", lambda: real() + 1.01)
    body = api(client, "organization", token).json()
    assert body["name"] == "Acme Corp" and body["mfa_required"] is True


@pytest.mark.django_db
def test_organisation_deleted_refuses_its_tokens(client, acme_conn, acme):
    token = get_token(client, acme_conn)
    assert api(client, "organization", token).status_code == 200
    acme.delete()  # cascades to the client and its tokens; this process forgets them at once
    assert not get_access_token_model().objects.exists()
    assert api(client, "organization", token).status_code == 401
