"""The Jeto API: bearer authentication (RFC 6750), scopes, and organisation isolation."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

from jeto_identity.connections import services as clients
from jeto_identity.models import Membership, OAuthClient, Role
from jeto_portal.api import bearer
from tests.api_clients_support import api, basic, get_token

AccessToken = get_access_token_model()


def test_organisation_of_the_token(client, acme_conn, acme):
    token = get_token(client, acme_conn)
    response = api(client, "organization", token)
    assert response.status_code == 200
    assert response.json()["slug"] == "acme" and response.json()["id"] == acme.pk


def test_members_list_is_the_token_organisations_only(client, acme_conn, acme_member, acme_admin, globex_member):
    response = api(client, "members", get_token(client, acme_conn))
    assert response.status_code == 200
    body = response.json()
    emails = [m["email"] for m in body["results"]]
    assert emails == ["ada@acme.test", "max@acme.test"]
    assert body["count"] == 2
    assert "gus@globex.test" not in json.dumps(body)


def test_list_entries_are_the_member_documents(client, acme_conn, acme_member, acme_admin):
    token = get_token(client, acme_conn)
    listed = api(client, "members", token).json()["results"]
    assert listed == [api(client, f"members/{m['id']}", token).json() for m in listed]
    assert set(listed[0]) == {"id", "email", "first_name", "last_name", "role", "is_active", "joined_at"}


def test_pagination_bounds(client, acme_conn, acme_member, acme_admin):
    token = get_token(client, acme_conn)
    page = api(client, "members?limit=1&offset=1", token).json()
    assert [m["email"] for m in page["results"]] == ["max@acme.test"] and page["count"] == 2
    for bad in ("limit=0", "limit=201", "offset=-1", "limit=abc"):
        response = api(client, f"members?{bad}", token)
        assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_org_a_token_cannot_read_or_change_org_b(client, acme_writer, globex_member, acme_member):
    token = get_token(client, acme_writer)
    assert api(client, f"members/{globex_member.pk}", token).status_code == 404
    response = api(
        client, f"members/{globex_member.pk}", token, "patch", data='{"role": "admin"}', content_type="application/json"
    )
    assert response.status_code == 404
    assert Membership.objects.get(user=globex_member).role == Role.MEMBER
    assert api(client, f"members/{acme_member.pk}", token).json()["email"] == "max@acme.test"


def test_globex_token_sees_globex(client, globex_conn, acme_member, globex_member):
    token = get_token(client, globex_conn)
    assert api(client, "organization", token).json()["slug"] == "globex"
    assert [m["email"] for m in api(client, "members", token).json()["results"]] == ["gus@globex.test"]


def test_write_needs_the_write_scope(client, acme_conn, acme_writer, acme_member):
    reader = get_token(client, acme_conn)
    body = {"data": '{"role": "admin"}', "content_type": "application/json"}
    denied = api(client, f"members/{acme_member.pk}", reader, "patch", **body)
    assert denied.status_code == 403
    assert denied.json()["error"] == "insufficient_scope"
    challenge = denied["WWW-Authenticate"]
    assert challenge.startswith("Bearer ") and 'error="insufficient_scope"' in challenge
    assert 'scope="members:write"' in challenge
    assert Membership.objects.get(user=acme_member).role == Role.MEMBER

    writer = get_token(client, acme_writer)
    changed = api(client, f"members/{acme_member.pk}", writer, "patch", **body)
    assert changed.status_code == 200 and changed.json()["role"] == "admin"
    assert Membership.objects.get(user=acme_member).role == Role.ADMIN


def test_narrowed_token_lacks_scope(client, acme_conn):
    token = get_token(client, acme_conn, scope="org:read")
    assert api(client, "organization", token).status_code == 200
    assert api(client, "members", token).status_code == 403


@pytest.mark.parametrize(
    "payload, content_type, status",
    [
        ('{"role": "owner"}', "application/json", 400),
        ('{"role": "admin", "is_superuser": true}', "application/json", 400),
        ("[1, 2]", "application/json", 400),
        ("{not json", "application/json", 400),
        ("role=admin", "application/x-www-form-urlencoded", 415),
    ],
)
def test_write_rejects_bad_input(client, acme_writer, acme_member, payload, content_type, status):
    token = get_token(client, acme_writer)
    response = api(client, f"members/{acme_member.pk}", token, "patch", data=payload, content_type=content_type)
    assert response.status_code == status
    assert Membership.objects.get(user=acme_member).role == Role.MEMBER


def test_owner_role_cannot_be_changed_through_the_api(client, acme_writer, acme_owner):
    token = get_token(client, acme_writer)
    response = api(
        client, f"members/{acme_owner.pk}", token, "patch", data='{"role": "member"}', content_type="application/json"
    )
    assert response.status_code == 403
    assert Membership.objects.get(user=acme_owner).role == Role.OWNER


def test_no_credentials_is_a_bare_bearer_challenge(client, db):
    response = client.get("/api/v1/organization")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="jeto-api"'


@pytest.mark.parametrize(
    "header, status, error",
    [
        ("Bearer", 400, "invalid_request"),
        ("Bearer ", 400, "invalid_request"),
        ("Bearer a b", 400, "invalid_request"),
        ("Bearer tok\u00e9n", 400, "invalid_request"),
        ("Bearer " + "a" * 600, 400, "invalid_request"),
        ("Basic dXNlcjpwYXNz", 401, None),
        ("Token abc", 401, None),
        ("Bearer not-a-real-token", 401, "invalid_token"),
    ],
)
def test_malformed_or_wrong_authorization(client, db, header, status, error):
    response = client.get("/api/v1/organization", HTTP_AUTHORIZATION=header)
    assert response.status_code == status
    challenge = response["WWW-Authenticate"]
    assert challenge.startswith("Bearer realm=")
    if error:
        assert f'error="{error}"' in challenge
        assert response.json()["error"] == error


def test_lower_case_scheme_is_accepted(client, acme_conn):
    token = get_token(client, acme_conn)
    assert client.get("/api/v1/organization", HTTP_AUTHORIZATION=f"bearer {token}").status_code == 200


def test_token_in_query_string_is_refused(client, acme_conn):
    token = get_token(client, acme_conn)
    response = client.get(f"/api/v1/organization?access_token={token}")
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_expired_token(client, acme_conn):
    token = get_token(client, acme_conn)
    AccessToken.objects.update(expires=timezone.now() - timedelta(seconds=1))
    bearer.clear_cache()
    response = api(client, "organization", token)
    assert response.status_code == 401 and 'error="invalid_token"' in response["WWW-Authenticate"]


def test_user_tokens_from_relying_parties_are_not_api_tokens(client, acme, acme_member):
    rp = OAuthClient.objects.create(
        name="Web app",
        client_type=OAuthClient.CLIENT_CONFIDENTIAL,
        authorization_grant_type=OAuthClient.GRANT_AUTHORIZATION_CODE,
        redirect_uris="https://app.example/cb",
        organization=acme,
    )
    from oauth2_provider.models import set_token_value

    at = AccessToken(user=acme_member, application=rp, scope="org:read", expires=timezone.now() + timedelta(hours=1))
    set_token_value(at, "user-token-abc")
    at.save()
    assert api(client, "organization", "user-token-abc").status_code == 401


def test_revoking_the_client_refuses_its_tokens_at_once(client, acme_conn):
    token = get_token(client, acme_conn)
    assert api(client, "organization", token).status_code == 200  # now cached
    clients.revoke_client(acme_conn.client)
    assert not AccessToken.objects.exists()
    assert api(client, "organization", token).status_code == 401


def test_disabling_the_client_in_any_save_refuses_its_tokens(client, acme_conn):
    token = get_token(client, acme_conn)
    assert api(client, "organization", token).status_code == 200
    c = OAuthClient.objects.get(pk=acme_conn.client.pk)
    c.enabled = False
    c.save()
    assert not AccessToken.objects.exists()
    assert api(client, "organization", token).status_code == 401


def test_deleting_the_client_refuses_its_tokens(client, acme_conn):
    token = get_token(client, acme_conn)
    assert api(client, "organization", token).status_code == 200
    OAuthClient.objects.filter(pk=acme_conn.client.pk).delete()
    assert api(client, "organization", token).status_code == 401


def test_another_process_sees_revocation_within_the_cache_bound(client, acme_conn, monkeypatch):
    """A revocation done elsewhere (no local invalidation) is seen once the 1 s cache entry lapses."""
    token = get_token(client, acme_conn)
    assert api(client, "organization", token).status_code == 200
    with connection.cursor() as cursor:  # as if another node deleted it: no signal reaches this process
        cursor.execute(f"DELETE FROM {AccessToken._meta.db_table}")
    assert api(client, "organization", token).status_code == 200  # still within the bound
    real = time.monotonic
    monkeypatch.setattr(bearer.time, "monotonic", lambda: real() + 1.01)
    assert api(client, "organization", token).status_code == 401


def test_method_not_allowed(client, acme_conn):
    token = get_token(client, acme_conn)
    response = api(client, "organization", token, "post")
    assert response.status_code == 405 and response["Allow"] == "GET"


def test_bearer_requests_set_no_cookies(client, acme_conn):
    token = get_token(client, acme_conn)
    response = api(client, "members", token)
    assert not response.cookies


def test_client_credentials_basic_header_is_not_a_bearer(client, acme_conn):
    response = client.get(
        "/api/v1/organization", HTTP_AUTHORIZATION=basic(acme_conn.client_id, acme_conn.client_secret)
    )
    assert response.status_code == 401


def test_organisation_created_at_is_an_aware_iso_timestamp(client, acme_conn, acme):
    from datetime import datetime

    value = api(client, "organization", get_token(client, acme_conn)).json()["created_at"]
    assert datetime.fromisoformat(value) == acme.created_at


def test_narrowing_a_clients_scopes_narrows_its_live_tokens(client, acme_conn):
    token = get_token(client, acme_conn)
    assert api(client, "members", token).status_code == 200
    OAuthClient.objects.filter(pk=acme_conn.client.pk).update(allowed_scopes="org:read")
    bearer.clear_cache()  # as after the 1 s bound
    assert api(client, "members", token).status_code == 403
    assert api(client, "organization", token).status_code == 200


def test_arbitrary_authorization_headers_never_500(client, db):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80))
    def check(header):
        # RFC 6750: a Bearer header that is not "Bearer <b64token>" is malformed (400); any other scheme brings no
        # credentials, and a well-formed token is unknown here (401).
        scheme, _, token = header.partition(" ")
        malformed = scheme.lower() == "bearer" and not re.fullmatch(r"[A-Za-z0-9\-._~+/]+=*", token)
        response = client.get("/api/v1/members", HTTP_AUTHORIZATION=header)
        assert response.status_code == (400 if malformed else 401), header
        assert response["WWW-Authenticate"].startswith("Bearer")

    check()


def test_arbitrary_token_endpoint_credentials_never_500(client, acme_conn):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    @settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.text(max_size=40), st.text(max_size=40))
    def check(client_id, secret):
        cache.clear()  # fresh brute-force counters: each example is one guess, not the hundredth
        response = client.post(
            "/o/token/",
            {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        )
        # A NUL in a parameter is malformed (400); anything else is a wrong secret or an unknown client (401).
        assert response.status_code == (400 if "\x00" in client_id + secret else 401), (client_id, secret)

    check()
