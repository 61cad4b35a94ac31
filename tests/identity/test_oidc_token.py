"""The token endpoint: PKCE verification, single-use short-lived codes, client authentication, grant types."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_grant_model, get_refresh_token_model

from jeto_identity.models import AuthenticationContext
from jeto_identity.provider import views as provider_views
from tests.conftest import sign_in
from tests.identity.oidc_support import (
    REDIRECT_URI,
    assert_client_authentication_challenges,
    authorize_params,
    authorize_url,
    pkce_pair,
    query,
    register_rp,
)

AccessToken = get_access_token_model()
Grant = get_grant_model()
RefreshToken = get_refresh_token_model()


@pytest.fixture
def registration(db):
    return register_rp("Token RP", trusted=True)


@pytest.fixture
def member_client(client, acme_member, password):
    sign_in(client, "max@acme.test", password)
    return client


@pytest.fixture
def issue_code(member_client, registration):
    def _issue(**overrides):
        verifier, challenge = pkce_pair()
        params = authorize_params(registration.client.client_id, challenge, **overrides)
        response = member_client.get(authorize_url(params))
        return query(response["Location"])["code"], verifier

    return _issue


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def exchange(client, registration, code, verifier, secret=None, **extra):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    if verifier is not None:
        data["code_verifier"] = verifier
    data.update(extra)
    auth = basic(registration.client.client_id, registration.client_secret if secret is None else secret)
    return client.post("/o/token/", data, HTTP_AUTHORIZATION=auth)


def test_code_exchange_returns_tokens(member_client, registration, issue_code):
    code, verifier = issue_code()
    response = exchange(member_client, registration, code, verifier)
    assert response.status_code == 200
    body = response.json()
    assert {"access_token", "refresh_token", "id_token", "expires_in"} <= set(body)
    assert body["token_type"] == "Bearer"
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("verifier", "error"),
    [
        (None, "invalid_request"),  # missing
        ("wrong-" + "x" * 43, "invalid_grant"),  # wrong
        ("", "invalid_grant"),
    ],
)
def test_pkce_verifier_must_match(member_client, registration, issue_code, verifier, error):
    code, _right = issue_code()
    response = exchange(member_client, registration, code, verifier)
    assert response.status_code == 400
    assert response.json()["error"] == error


def test_plain_verifier_equal_to_the_challenge_is_refused(member_client, registration, issue_code):
    verifier, challenge = pkce_pair()
    params = authorize_params(registration.client.client_id, challenge)
    code = query(member_client.get(authorize_url(params))["Location"])["code"]
    response = exchange(member_client, registration, code, challenge)  # "plain" style: verifier == challenge
    assert response.json()["error"] == "invalid_grant"


def test_code_verifier_without_a_challenge_is_refused(member_client, registration, acme_member):
    """A grant stored without a challenge (e.g. from before PKCE was required) can't be redeemed at all."""
    Grant.objects.create(
        application=registration.client,
        user=acme_member,
        code="legacy-code-without-challenge",
        expires=timezone.now() + timedelta(seconds=60),
        redirect_uri=REDIRECT_URI,
        scope="openid",
    )
    response = exchange(member_client, registration, "legacy-code-without-challenge", "some-verifier-" + "x" * 40)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_second_use_of_a_code_fails_and_revokes_what_the_first_issued(member_client, registration, issue_code):
    code, verifier = issue_code()
    first = exchange(member_client, registration, code, verifier).json()
    assert member_client.get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {first['access_token']}").status_code == 200

    second = exchange(member_client, registration, code, verifier)
    assert second.status_code == 400 and second.json()["error"] == "invalid_grant"
    assert member_client.get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {first['access_token']}").status_code == 401
    refresh = member_client.post(
        "/o/token/",
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        HTTP_AUTHORIZATION=basic(registration.client.client_id, registration.client_secret),
    )
    assert refresh.json()["error"] == "invalid_grant"


def test_code_replay_also_revokes_tokens_refreshed_since(member_client, registration, issue_code):
    code, verifier = issue_code()
    first = exchange(member_client, registration, code, verifier).json()
    auth = basic(registration.client.client_id, registration.client_secret)
    rotated = member_client.post(
        "/o/token/", {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}, HTTP_AUTHORIZATION=auth
    ).json()
    exchange(member_client, registration, code, verifier)
    assert member_client.get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {rotated['access_token']}").status_code == 401


def test_expired_code_is_refused(member_client, registration, issue_code):
    code, verifier = issue_code()
    Grant.objects.filter(code=code).update(expires=timezone.now() - timedelta(seconds=1))
    response = exchange(member_client, registration, code, verifier)
    assert response.json()["error"] == "invalid_grant"


def test_codes_live_at_most_ten_minutes(issue_code):
    code, _verifier = issue_code()
    grant = Grant.objects.get(code=code)
    assert grant.expires - grant.created <= timedelta(minutes=10)


def test_wrong_client_secret_is_invalid_client(member_client, registration, issue_code):
    code, verifier = issue_code()
    response = exchange(member_client, registration, code, verifier, secret="not-the-secret")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    # The code is still good for the rightful client afterwards.
    assert exchange(member_client, registration, code, verifier).status_code == 200


def test_a_code_is_bound_to_its_client(member_client, registration, issue_code):
    other = register_rp("Other", redirect_uris=REDIRECT_URI)
    code, verifier = issue_code()
    response = exchange(member_client, other, code, verifier)
    assert response.json()["error"] == "invalid_grant"


def test_a_code_is_bound_to_its_redirect_uri(member_client, registration):
    registration.client.redirect_uris = f"{REDIRECT_URI} https://rp.example.test/other"
    registration.client.save()
    verifier, challenge = pkce_pair()
    params = authorize_params(registration.client.client_id, challenge)
    code = query(member_client.get(authorize_url(params))["Location"])["code"]
    response = exchange(member_client, registration, code, verifier, redirect_uri="https://rp.example.test/other")
    assert response.status_code == 400
    # RFC 6749 5.2: a redirect URI other than the authorization request's is invalid_grant.
    assert response.json()["error"] == "invalid_grant"
    assert "redirect_uri" in response.json()["error_description"]
    # The code was not spent on the refused attempt: the right redirect URI still redeems it.
    assert exchange(member_client, registration, code, verifier).status_code == 200


def test_confidential_client_must_authenticate(member_client, registration, issue_code):
    code, verifier = issue_code()
    response = member_client.post(
        "/o/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
            "client_id": registration.client.client_id,
        },
    )
    assert response.status_code == 401


def test_public_client_uses_pkce_without_a_secret(member_client, db):
    public = register_rp("SPA", public=True, trusted=True)
    assert public.client_secret == ""
    verifier, challenge = pkce_pair()
    code = query(member_client.get(authorize_url(authorize_params(public.client.client_id, challenge)))["Location"])[
        "code"
    ]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "client_id": public.client.client_id,
        "code_verifier": verifier,
    }
    response = member_client.post("/o/token/", data)
    assert response.status_code == 200 and "id_token" in response.json()


@pytest.mark.parametrize(
    "grant_type",
    [
        "password",
        "implicit",
        "urn:ietf:params:oauth:grant-type:device_code",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "nope",
    ],
)
def test_unsupported_grant_types(member_client, registration, grant_type):
    response = member_client.post(
        "/o/token/",
        {"grant_type": grant_type, "username": "max@acme.test", "password": "x", "device_code": "x"},
        HTTP_AUTHORIZATION=basic(registration.client.client_id, registration.client_secret),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


@pytest.mark.parametrize(
    ("data", "headers", "status", "error"),
    [
        ({"grant_type": "authorization_code"}, {}, 400, "invalid_request"),
        (
            {"grant_type": "authorization_code", "code": "x" * 5000, "code_verifier": "y" * 5000},
            {},
            400,
            "invalid_grant",
        ),
        ({"grant_type": "authorization_code", "code": "\x00"}, {}, 400, "invalid_request"),
        ({}, {}, 400, "unsupported_grant_type"),
        ({"grant_type": "refresh_token", "refresh_token": ""}, {}, 400, "invalid_grant"),
        (
            {"grant_type": "authorization_code", "code": "abc"},
            {"HTTP_AUTHORIZATION": "Basic !!!not-base64"},
            401,
            "invalid_client",
        ),
        (
            {"grant_type": "authorization_code", "code": "abc"},
            {"HTTP_AUTHORIZATION": "Basic " + "QQ" * 3000},
            401,
            "invalid_client",
        ),
        (
            {"grant_type": "authorization_code", "code": "abc"},
            {"HTTP_AUTHORIZATION": "Bearer abc"},
            401,
            "invalid_client",
        ),
    ],
)
def test_malformed_token_requests_are_4xx_with_an_oauth_error(client, registration, data, headers, status, error):
    if not headers:
        headers = {"HTTP_AUTHORIZATION": basic(registration.client.client_id, registration.client_secret)}
    response = client.post("/o/token/", data, **headers)
    assert response.status_code == status
    assert response.json()["error"] == error


def test_token_endpoint_query_garbage_is_400(client):
    assert client.post("/o/token/?x=%zz", {}).status_code == 400


def test_refresh_token_of_another_client_is_refused(member_client, registration, issue_code):
    other = register_rp("Other")
    code, verifier = issue_code()
    tokens = exchange(member_client, registration, code, verifier).json()
    response = member_client.post(
        "/o/token/",
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        HTTP_AUTHORIZATION=basic(other.client.client_id, other.client_secret),
    )
    assert response.json()["error"] == "invalid_grant"


def test_tokens_are_stored_hashed(member_client, registration, issue_code):
    code, verifier = issue_code()
    tokens = exchange(member_client, registration, code, verifier).json()
    assert not AccessToken.objects.filter(token=tokens["access_token"]).exists()
    assert not RefreshToken.objects.filter(token=tokens["refresh_token"]).exists()
    context = AuthenticationContext.objects.get()
    assert context.redeemed_at is not None and context.token_family is not None
    assert code not in context.code_hash


@pytest.mark.parametrize("endpoint", ["/o/revoke/", "/o/introspect/", "/o/token/", "/o/userinfo/"])
def test_nul_bytes_are_400_everywhere(client, registration, endpoint):
    auth = basic(registration.client.client_id, registration.client_secret)
    response = client.post(endpoint, {"token": "a\x00b", "grant_type": "refresh_token"}, HTTP_AUTHORIZATION=auth)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    "params",
    [
        {"id_token_hint": "garbage"},
        {"id_token_hint": "a.b.c"},
        {"id_token_hint": "eyJhbGciOiJub25lIn0.eyJhdWQiOiJ4In0."},  # alg none, unknown audience
        {"client_id": "no-such-client", "post_logout_redirect_uri": "https://rp.example.test/signed-out"},
        {"client_id": "x\x00"},
        {"post_logout_redirect_uri": "https://rp.example.test/signed-out"},  # no client to check it against
    ],
)
def test_logout_with_bad_parameters_is_an_error_page_never_a_redirect(member_client, registration, params):
    response = member_client.get("/o/logout/", params)
    assert response.status_code == 400
    assert "Location" not in response


def test_stale_authentication_contexts_are_cleared_but_live_families_kept(member_client, registration, issue_code):
    from django.core.management import call_command

    live_code, verifier = issue_code()
    exchange(member_client, registration, live_code, verifier)
    issue_code()  # never redeemed
    AuthenticationContext.objects.update(created_at=timezone.now() - timedelta(days=2))
    call_command("clearoidccontexts")
    remaining = AuthenticationContext.objects.get()
    assert remaining.redeemed_at is not None
    RefreshToken.revoke_family(remaining.token_family)
    call_command("clearoidccontexts")
    assert not AuthenticationContext.objects.exists()


def test_introspecting_a_refresh_token(member_client, registration, issue_code):
    code, verifier = issue_code()
    tokens = exchange(member_client, registration, code, verifier).json()
    auth = basic(registration.client.client_id, registration.client_secret)
    data = member_client.post("/o/introspect/", {"token": tokens["refresh_token"]}, HTTP_AUTHORIZATION=auth).json()
    assert data["active"] is True and data["token_type"] == "refresh_token"
    assert (
        member_client.get("/o/introspect/", {"token": tokens["refresh_token"]}, HTTP_AUTHORIZATION=auth).status_code
        == 405
    )


def test_a_deactivated_user_loses_codes_tokens_and_refresh(member_client, registration, issue_code, acme_member):
    code, verifier = issue_code()
    tokens = exchange(member_client, registration, code, verifier).json()
    pending_code, pending_verifier = issue_code()
    acme_member.is_active = False
    acme_member.save()
    bearer = f"Bearer {tokens['access_token']}"
    assert member_client.get("/o/userinfo/", HTTP_AUTHORIZATION=bearer).status_code == 401
    auth = basic(registration.client.client_id, registration.client_secret)
    refresh = member_client.post(
        "/o/token/", {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, HTTP_AUTHORIZATION=auth
    )
    assert refresh.json()["error"] == "invalid_grant"
    assert exchange(member_client, registration, pending_code, pending_verifier).json()["error"] == "invalid_grant"


# --- failed client authentication: challenged with the scheme the client used (RFC 6749 5.2) ----------------


def test_a_wrong_basic_secret_gets_a_basic_challenge_and_a_wrong_post_secret_none(rf, registration):
    """The stock token view (test_fastpaths checks the fast one the same way)."""
    assert_client_authentication_challenges(provider_views.TokenView, rf, registration.client.client_id)


def test_the_mounted_token_endpoint_challenges_a_wrong_basic_secret_with_basic(client, registration):
    data = {"grant_type": "authorization_code", "code": "no-such-code", "redirect_uri": REDIRECT_URI}
    response = client.post("/o/token/", data, HTTP_AUTHORIZATION=basic(registration.client.client_id, "wrong"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith('Basic realm="')
