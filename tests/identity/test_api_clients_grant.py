"""The client-credentials grant at /o/token/ for application connections."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from jeto_identity.connections import services as clients
from jeto_identity.models import OAuthClient
from tests.api_clients_support import TOKEN_URL, basic, request_token, token_checksum

AccessToken = get_access_token_model()


@pytest.mark.parametrize("method", ["basic", "post"])
def test_client_gets_a_token_bound_to_its_organisation(client, acme_conn, acme, method):
    response = request_token(client, acme_conn.client_id, acme_conn.client_secret, method=method)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert set(body["scope"].split()) == {"org:read", "members:read"}
    assert body["expires_in"] == 3600
    assert "refresh_token" not in body and "id_token" not in body
    assert response["Cache-Control"] == "no-store"
    token = AccessToken.objects.get(token_checksum=token_checksum(body["access_token"]))
    assert token.application.organization == acme
    assert token.user is None
    assert token.token == ""  # stored hashed only (RFC 9700)
    assert not get_refresh_token_model().objects.exists()


def test_requested_scopes_are_narrowed_and_more_is_invalid_scope(client, acme_conn):
    narrow = request_token(client, acme_conn.client_id, acme_conn.client_secret, scope="org:read")
    assert narrow.status_code == 200 and narrow.json()["scope"] == "org:read"
    more = request_token(client, acme_conn.client_id, acme_conn.client_secret, scope="org:read members:write")
    assert more.status_code == 400 and more.json()["error"] == "invalid_scope"
    unknown = request_token(client, acme_conn.client_id, acme_conn.client_secret, scope="openid")
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_scope"
    assert AccessToken.objects.count() == 1


def test_wrong_secret_and_unknown_client_get_the_same_invalid_client(client, acme_conn):
    wrong = request_token(client, acme_conn.client_id, acme_conn.client_secret[:-2] + "xx")
    unknown = request_token(client, "no-such-client", acme_conn.client_secret)
    wrong_post = request_token(client, acme_conn.client_id, "nope", method="post")
    unknown_post = request_token(client, "no-such-client", "nope", method="post")
    for response in (wrong, unknown, wrong_post, unknown_post):
        assert response.status_code == 401
        assert response.json() == {"error": "invalid_client"}
    assert wrong.content == unknown.content
    for header in ("WWW-Authenticate", "Content-Type", "Cache-Control"):
        assert wrong.get(header) == unknown.get(header)
    assert not AccessToken.objects.exists()


@pytest.mark.parametrize(
    "header",
    [
        "Basic",
        "Basic !!!not-base64!!!",
        "Basic " + "bm9jb2xvbg==",  # "nocolon"
        "Bearer something",
        "Basic " + "OnNlY3JldA==",  # ":secret" (no client id)
    ],
)
def test_malformed_client_authentication_is_invalid_client(client, acme_conn, header):
    response = client.post(TOKEN_URL, {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_both_authentication_methods_at_once_are_refused(client, acme_conn):
    response = client.post(
        TOKEN_URL,
        {"grant_type": "client_credentials", "client_id": acme_conn.client_id, "client_secret": "x"},
        HTTP_AUTHORIZATION=basic(acme_conn.client_id, acme_conn.client_secret),
    )
    assert response.status_code == 401
    assert not AccessToken.objects.exists()


def test_public_client_cannot_use_client_credentials(client, acme):
    issued = clients.issue_client(organization=acme, name="Public", scopes="org:read")
    OAuthClient.objects.filter(pk=issued.client.pk).update(client_type=OAuthClient.CLIENT_PUBLIC)
    response = request_token(client, issued.client_id, issued.client_secret)
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"
    assert not AccessToken.objects.exists()


def test_authorization_code_client_cannot_use_client_credentials(client, acme):
    rp = OAuthClient(
        name="Web app",
        client_type=OAuthClient.CLIENT_CONFIDENTIAL,
        authorization_grant_type=OAuthClient.GRANT_AUTHORIZATION_CODE,
        redirect_uris="https://app.example/cb",
        client_secret="rp-secret-" + "x" * 40,
    )
    rp.save()
    response = request_token(client, rp.client_id, "rp-secret-" + "x" * 40)
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_client_without_organisation_cannot_use_client_credentials(client, acme):
    issued = clients.issue_client(organization=acme, name="Orphan", scopes="org:read")
    OAuthClient.objects.filter(pk=issued.client.pk).update(organization=None)
    response = request_token(client, issued.client_id, issued.client_secret)
    assert response.status_code == 400 and response.json()["error"] == "unauthorized_client"


def test_disabled_client_is_invalid_client(client, acme_conn):
    OAuthClient.objects.filter(pk=acme_conn.client.pk).update(enabled=False)
    response = request_token(client, acme_conn.client_id, acme_conn.client_secret)
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_per_client_token_lifetime(client, acme):
    issued = clients.issue_client(organization=acme, name="Short", scopes="org:read", access_token_lifetime=120)
    response = request_token(client, issued.client_id, issued.client_secret)
    assert response.json()["expires_in"] == 120
    token = AccessToken.objects.get()
    assert timedelta(seconds=110) < token.expires - timezone.now() <= timedelta(seconds=120)


def test_rotation_grace_period(client, acme_conn):
    old = acme_conn.client_secret
    new = clients.rotate_secret(acme_conn.client, grace_seconds=3600).client_secret
    assert new != old
    assert request_token(client, acme_conn.client_id, old).status_code == 200
    assert request_token(client, acme_conn.client_id, new).status_code == 200
    OAuthClient.objects.filter(pk=acme_conn.client.pk).update(
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert request_token(client, acme_conn.client_id, old).json() == {"error": "invalid_client"}
    assert request_token(client, acme_conn.client_id, new).status_code == 200


def test_rotation_without_grace_stops_the_old_secret_at_once(client, acme_conn):
    old = acme_conn.client_secret
    new = clients.rotate_secret(acme_conn.client, grace_seconds=0).client_secret
    assert request_token(client, acme_conn.client_id, old).status_code == 401
    assert request_token(client, acme_conn.client_id, new).status_code == 200


def test_grant_records_last_used(client, acme_conn):
    assert acme_conn.client.last_used_at is None
    request_token(client, acme_conn.client_id, acme_conn.client_secret)
    acme_conn.client.refresh_from_db()
    assert acme_conn.client.last_used_at is not None


def test_secret_with_url_reserved_characters_in_basic_is_decoded(client, acme_conn):
    # token_urlsafe secrets contain '-' and '_'; form-urlencoding in Basic (RFC 6749 2.3.1) must round-trip.
    response = client.post(
        TOKEN_URL,
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic(acme_conn.client_id, acme_conn.client_secret),
    )
    assert response.status_code == 200


def test_revocation_endpoint_revokes(client, acme_conn):
    token = request_token(client, acme_conn.client_id, acme_conn.client_secret).json()["access_token"]
    assert AccessToken.objects.filter(token_checksum=token_checksum(token)).exists()
    revoked = client.post(
        "/o/revoke/", {"token": token}, HTTP_AUTHORIZATION=basic(acme_conn.client_id, acme_conn.client_secret)
    )
    assert revoked.status_code == 200
    assert not AccessToken.objects.exists()


def test_app_authorized_signal_carries_the_issued_token(client, acme_conn):
    from oauth2_provider.signals import app_authorized

    seen = []

    def receiver(sender, request, token, **kwargs):
        seen.append(token)

    app_authorized.connect(receiver)
    try:
        body = request_token(client, acme_conn.client_id, acme_conn.client_secret).json()
    finally:
        app_authorized.disconnect(receiver)
    assert len(seen) == 1 and seen[0].pk is not None
    assert seen[0].token_checksum == token_checksum(body["access_token"])
    assert seen[0].application_id == acme_conn.client.pk


def test_failed_grant_sends_no_signal(client, acme_conn):
    from oauth2_provider.signals import app_authorized

    seen = []
    app_authorized.connect(lambda sender, **kw: seen.append(kw), weak=False, dispatch_uid="t")
    try:
        request_token(client, acme_conn.client_id, "wrong")
    finally:
        app_authorized.disconnect(dispatch_uid="t")
    assert seen == []


def test_introspection_tells_a_connection_about_its_own_tokens_only(client, acme_conn, globex_conn):
    acme_token = request_token(client, acme_conn.client_id, acme_conn.client_secret).json()["access_token"]
    globex_token = request_token(client, globex_conn.client_id, globex_conn.client_secret).json()["access_token"]
    acme_auth = basic(acme_conn.client_id, acme_conn.client_secret)
    own = client.post("/o/introspect/", {"token": acme_token}, HTTP_AUTHORIZATION=acme_auth).json()
    assert own["active"] is True and own["client_id"] == acme_conn.client_id
    other = client.post("/o/introspect/", {"token": globex_token}, HTTP_AUTHORIZATION=acme_auth)
    assert other.status_code == 200 and other.json() == {"active": False}
    by_body = client.post(
        "/o/introspect/",
        {"token": globex_token, "client_id": acme_conn.client_id, "client_secret": acme_conn.client_secret},
    )
    assert by_body.json() == {"active": False}
    wrong = client.post("/o/introspect/", {"token": acme_token}, HTTP_AUTHORIZATION=basic(acme_conn.client_id, "x"))
    assert wrong.status_code == 401


def test_introspection_cannot_be_tricked_by_naming_another_client(client, acme_conn, globex_conn):
    globex_token = request_token(client, globex_conn.client_id, globex_conn.client_secret).json()["access_token"]
    # Basic names Globex (wrong secret), the body authenticates as Acme.
    response = client.post(
        "/o/introspect/",
        {"token": globex_token, "client_id": acme_conn.client_id, "client_secret": acme_conn.client_secret},
        HTTP_AUTHORIZATION=basic(globex_conn.client_id, "not-the-secret"),
    )
    assert response.status_code == 200 and response.json() == {"active": False}  # Acme asked about Globex's token


def test_nul_bytes_in_credentials_are_a_clear_4xx_not_500(client, acme_conn):
    response = request_token(client, "abc\x00def", "secret", method="post")
    assert response.status_code == 400
    response = request_token(client, acme_conn.client_id, "sec\x00ret")  # in the Authorization header
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    response = request_token(client, acme_conn.client_id, "sec\x00ret", method="post")
    assert response.status_code == 400
    introspect = client.post(
        "/o/introspect/",
        {"token": "x", "client_id": "a\x00b"},
        HTTP_AUTHORIZATION=basic(acme_conn.client_id, acme_conn.client_secret),
    )
    assert introspect.status_code == 400
