"""The authorization endpoint: exact redirect URIs, PKCE S256 only, prompt/max_age/login_hint, consent, iss."""

from __future__ import annotations

import time

import pytest

from jeto_identity.login.services import AUTH_TIME_SESSION_KEY
from tests.conftest import sign_in
from tests.identity.oidc_support import (
    REDIRECT_URI,
    authorize_params,
    authorize_url,
    pkce_pair,
    query,
    register_rp,
)

ISSUER = "http://testserver"


@pytest.fixture
def trusted(db):
    return register_rp("First-party app", trusted=True).client


@pytest.fixture
def third_party(db):
    return register_rp("Third-party app").client


@pytest.fixture
def member_client(client, acme_member, password):
    sign_in(client, "max@acme.test", password)
    return client


def _params(rp, **overrides):
    client_id = overrides.pop("client_id", rp.client_id)
    params = authorize_params(client_id or "", pkce_pair()[1], **overrides)
    if client_id is None:
        params.pop("client_id")
    return params


def assert_error_page(response, status=400):
    assert response.status_code == status
    assert "Location" not in response
    assert b'data-testid="oauth-error"' in response.content


def assert_client_error(response, error, state=None):
    assert response.status_code == 302
    assert response["Location"].startswith(REDIRECT_URI + "?")
    params = query(response["Location"])
    assert params["error"] == error, params
    assert params["iss"] == ISSUER
    if state is not None:
        assert params["state"] == state
    return params


# --- client and redirect URI: an error page, never a redirect -----------------------------------------------


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://rp.example.test/callback/extra",  # prefix
        "https://rp.example.test/callbac",
        "https://rp.example.test/callback/",  # trailing slash
        "https://rp.example.test/callback?next=/admin",  # extra query
        "https://rp.example.test/callback?",
        "https://rp.example.test/callback#frag",  # fragment
        "https://rp.example.test/callback#",
        "https://attacker@rp.example.test/callback",  # userinfo
        "https://rp.example.test@attacker.example/callback",
        "https://rp.example.test/x/../callback",  # path tricks
        "https://rp.example.test/callback/.",
        "https://rp.example.test/Callback",
        "https://rp.example.test/callback;x=1",
        "https://rp.example.test/callback%2F..%2Fadmin",
        "http://rp.example.test/callback",  # scheme
        "https://rp.example.test:8443/callback",  # port
        "https://rp.example.test.attacker.example/callback",  # host suffix
        "https://evil.example/callback",
        "javascript:alert(1)",
        "",
    ],
)
def test_unregistered_redirect_uri_shows_an_error_page(member_client, third_party, redirect_uri):
    assert_error_page(member_client.get(authorize_url(_params(third_party, redirect_uri=redirect_uri))))


def test_missing_redirect_uri_shows_an_error_page_even_with_one_registered_uri(member_client, trusted, third_party):
    """OpenID Connect Core 3.1.2.1: redirect_uri is REQUIRED; never fall back to the registered one."""
    for rp in (trusted, third_party):
        for prompt in (None, "none"):
            response = member_client.get(authorize_url(_params(rp, redirect_uri=None, prompt=prompt)))
            assert_error_page(response)
            assert b"redirect_uri" in response.content or b"redirect URI" in response.content


def test_unknown_or_missing_client_shows_an_error_page(member_client, third_party):
    assert_error_page(member_client.get(authorize_url(_params(third_party, client_id="no-such-client"))))
    assert_error_page(member_client.get(authorize_url(_params(third_party, client_id=None))))
    assert_error_page(member_client.get(authorize_url(_params(third_party, client_id="x" * 5000))))


def test_anonymous_visitor_with_a_bad_request_gets_the_error_page_not_the_login_page(client, third_party):
    assert_error_page(client.get(authorize_url(_params(third_party, client_id="nope"))))
    assert_error_page(client.get(authorize_url(_params(third_party, redirect_uri="https://evil.example/"))))
    assert_error_page(client.get(authorize_url(_params(third_party, client_id="nope", prompt="none"))))


def test_disabled_client_is_unknown(member_client, third_party):
    third_party.enabled = False
    third_party.save()
    assert_error_page(member_client.get(authorize_url(_params(third_party))))


def test_duplicate_parameters_are_refused_without_redirect(member_client, third_party):
    url = authorize_url(_params(third_party)) + "&client_id=" + third_party.client_id
    assert_error_page(member_client.get(url))


# --- PKCE ----------------------------------------------------------------------------------------------------


def test_missing_code_challenge_is_refused(member_client, third_party):
    assert_client_error(
        member_client.get(
            authorize_url(_params(third_party, code_challenge=None, code_challenge_method=None, state="s1"))
        ),
        "invalid_request",
        state="s1",
    )


@pytest.mark.parametrize("method", ["plain", None, "S512", "s256"])
def test_only_s256_is_accepted(member_client, third_party, method):
    verifier, _ = pkce_pair()
    params = _params(third_party, code_challenge=verifier[:43], code_challenge_method=method)
    assert_client_error(member_client.get(authorize_url(params)), "invalid_request")


@pytest.mark.parametrize("challenge", ["short", "x" * 44, "a" * 42 + "=", "a" * 42 + "+"])
def test_malformed_s256_challenge_is_refused(member_client, third_party, challenge):
    assert_client_error(
        member_client.get(authorize_url(_params(third_party, code_challenge=challenge))), "invalid_request"
    )


# --- response types and other parameters -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("response_type", "error"),
    [
        ("token", "unsupported_response_type"),
        ("id_token", "unsupported_response_type"),
        ("id_token token", "unsupported_response_type"),
        ("code id_token", "unauthorized_client"),
        ("code token", "unauthorized_client"),
        ("none", "unauthorized_client"),
        (None, "invalid_request"),
    ],
)
def test_only_response_type_code(member_client, third_party, response_type, error):
    assert_client_error(member_client.get(authorize_url(_params(third_party, response_type=response_type))), error)


def test_other_response_modes_and_request_objects_are_refused(member_client, third_party):
    assert_client_error(
        member_client.get(authorize_url(_params(third_party, response_mode="fragment"))), "invalid_request"
    )
    assert_client_error(
        member_client.get(authorize_url(_params(third_party, response_mode="form_post"))), "invalid_request"
    )
    assert_client_error(
        member_client.get(authorize_url(_params(third_party, request="eyJ.x.y"))), "request_not_supported"
    )
    assert_client_error(
        member_client.get(authorize_url(_params(third_party, request_uri="https://x.example/r"))),
        "request_not_supported",
    )


def test_unknown_scope_is_refused(member_client, third_party):
    assert_client_error(member_client.get(authorize_url(_params(third_party, scope="openid admin"))), "invalid_scope")


@pytest.mark.parametrize("api_scope", ["org:read", "members:read", "members:write"])
def test_relying_parties_never_get_jeto_api_scopes(member_client, third_party, api_scope):
    assert_client_error(
        member_client.get(authorize_url(_params(third_party, scope=f"openid {api_scope}"))), "invalid_scope"
    )


@pytest.mark.parametrize(
    "overrides",
    [
        {"state": "s" * 600},
        {"nonce": "n" * 300},
        {"login_hint": "a" * 300 + "@acme.test"},
        {"max_age": "soon"},
        {"max_age": "-5"},
        {"claims": "{" * 1100},
        {"ui_locales": "x" * 100},
        {"scope": "openid " * 60},
    ],
)
def test_oversized_or_malformed_parameters_get_an_oauth_error_not_a_500(member_client, third_party, overrides):
    response = member_client.get(authorize_url(_params(third_party, **overrides)))
    assert_client_error(response, "invalid_request")


@pytest.mark.parametrize(
    ("suffix", "expected"),
    [
        ("&scope=%ZZ", 400),
        ("&redirect_uri=%", 400),
        ("&state=%", 400),
        ("&client_id=%00", 400),
        ("&redirect_uri=https%3A%2F%2Frp.example.test%2Fcallback%00", 400),
        ("&nonce=%00", 400),
        ("&state=a%0Db", "invalid_request"),
        ("&prompt=none%20login", "invalid_request"),
    ],
)
def test_garbled_query_strings_are_4xx_never_500(member_client, third_party, suffix, expected):
    params = _params(third_party)
    params.pop(suffix[1:].split("=")[0], None)
    response = member_client.get(authorize_url(params) + suffix)
    if expected == 400:
        assert_error_page(response)
    else:
        assert_client_error(response, expected)


def test_whole_request_too_long(member_client, third_party):
    response = member_client.get(
        authorize_url(_params(third_party, state="s" * 500, nonce="n" * 250)) + "&x=" + "y" * 1500
    )
    assert_client_error(response, "invalid_request")


# --- sign-in: login_hint, prompt, max_age ------------------------------------------------------------------------


def test_anonymous_user_is_sent_to_the_email_step_with_login_hint(client, third_party):
    response = client.get(authorize_url(_params(third_party, login_hint="max@acme.test")))
    assert response.status_code == 302
    login = query(response["Location"])
    assert response["Location"].startswith("/login/?")
    assert login["login_hint"] == "max@acme.test"
    assert login["next"].startswith("/o/authorize/?")
    page = client.get(response["Location"])
    assert b'value="max@acme.test"' in page.content


def test_prompt_none_when_signed_out_returns_login_required(client, third_party):
    assert_client_error(
        client.get(authorize_url(_params(third_party, prompt="none", state="p1"))), "login_required", "p1"
    )


def test_prompt_none_with_another_value_is_invalid(member_client, third_party):
    assert_client_error(member_client.get(authorize_url(_params(third_party, prompt="none login"))), "invalid_request")


def test_prompt_none_for_a_trusted_client_issues_a_code_silently(member_client, trusted):
    response = member_client.get(authorize_url(_params(trusted, prompt="none", state="q")))
    assert response.status_code == 302
    params = query(response["Location"])
    assert params["code"] and params["state"] == "q" and params["iss"] == ISSUER


def test_prompt_none_without_consent_returns_consent_required(member_client, third_party):
    assert_client_error(member_client.get(authorize_url(_params(third_party, prompt="none"))), "consent_required")


def test_prompt_none_with_a_stale_session_returns_login_required(member_client, trusted):
    session = member_client.session
    session[AUTH_TIME_SESSION_KEY] = int(time.time()) - 3600
    session.save()
    assert_client_error(
        member_client.get(authorize_url(_params(trusted, prompt="none", max_age="60"))), "login_required"
    )


def test_prompt_login_forces_the_sign_in_form_and_refreshes_auth_time(member_client, trusted, password):
    session = member_client.session
    session[AUTH_TIME_SESSION_KEY] = old = int(time.time()) - 3600
    session.save()
    response = member_client.get(authorize_url(_params(trusted, prompt="login")))
    assert response.status_code == 302 and response["Location"].startswith("/login/?")
    login = query(response["Location"])
    assert login["prompt"] == "login" and "prompt" not in query(login["next"])
    assert member_client.get(response["Location"]).status_code == 200  # the form, although signed in
    back = sign_in(member_client, "max@acme.test", password, next_url=login["next"])
    assert back["Location"] == login["next"]
    assert member_client.session[AUTH_TIME_SESSION_KEY] > old
    done = member_client.get(back["Location"])
    assert "code" in query(done["Location"])


def test_max_age_exceeded_sends_the_user_to_sign_in_again(member_client, trusted):
    session = member_client.session
    session[AUTH_TIME_SESSION_KEY] = int(time.time()) - 600
    session.save()
    response = member_client.get(authorize_url(_params(trusted, max_age="300")))
    assert response["Location"].startswith("/login/?")
    assert "max_age" not in query(query(response["Location"])["next"])
    fresh = member_client.get(authorize_url(_params(trusted, max_age="3600")))
    assert "code" in query(fresh["Location"])


# --- consent ---------------------------------------------------------------------------------------------------


def test_trusted_client_skips_consent_third_party_sees_it(member_client, trusted, third_party):
    assert "code" in query(member_client.get(authorize_url(_params(trusted)))["Location"])
    page = member_client.get(authorize_url(_params(third_party)))
    assert page.status_code == 200
    assert b"Allow Third-party app to sign you in?" in page.content
    assert b"Your organisations and your role in each" in page.content


def test_prompt_consent_shows_the_page_even_for_a_trusted_client(member_client, trusted):
    assert member_client.get(authorize_url(_params(trusted, prompt="consent"))).status_code == 200


def test_denying_consent_returns_access_denied_with_state_and_iss(member_client, third_party):
    params = _params(third_party, state="deny-me")
    page = member_client.get(authorize_url(params))
    form = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    response = member_client.post("/o/authorize/", form)
    assert_client_error(response, "access_denied", state="deny-me")


def test_allowing_consent_issues_a_code_with_state_and_iss(member_client, third_party):
    params = _params(third_party, state="yes")
    page = member_client.get(authorize_url(params))
    form = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    response = member_client.post("/o/authorize/", {**form, "allow": "on"})
    result = query(response["Location"])
    assert result["code"] and result["state"] == "yes" and result["iss"] == ISSUER


def test_consent_post_with_a_tampered_client_is_refused(member_client, third_party):
    page = member_client.get(authorize_url(_params(third_party)))
    form = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    assert_error_page(member_client.post("/o/authorize/", {**form, "client_id": "forged", "allow": "on"}))
    tampered = {**form, "redirect_uri": "https://evil.example/cb", "allow": "on"}
    response = member_client.post("/o/authorize/", tampered)
    assert response.status_code == 400 and "Location" not in response


def test_incomplete_consent_post_is_an_error_page(member_client, third_party):
    assert_error_page(member_client.post("/o/authorize/", {"allow": "on"}))


@pytest.mark.parametrize(("claims", "status"), [("{", 400), ('{"id_token": ', 400), ("[1,2]", 200)])
def test_malformed_claims_parameter_is_refused_or_ignored(member_client, third_party, claims, status):
    """Unparseable JSON is an error page; JSON that is not a claims request is ignored (the consent page)."""
    response = member_client.get(authorize_url(_params(third_party, claims=claims)))
    assert response.status_code == status and "Location" not in response


def test_consent_post_with_oversized_fields_is_refused(member_client, third_party):
    page = member_client.get(authorize_url(_params(third_party)))
    form = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    response = member_client.post("/o/authorize/", {**form, "nonce": "n" * 5000, "allow": "on"})
    assert_client_error(response, "invalid_request")


def test_consent_post_requires_csrf(client, acme_member, password, third_party):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(acme_member)
    page = strict.get(authorize_url(_params(third_party)))
    form = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    assert strict.post("/o/authorize/", {**form, "allow": "on"}).status_code == 403


# --- id_token_hint ----------------------------------------------------------------------------------------------


def test_id_token_hint_for_the_signed_in_user_passes_and_for_another_user_does_not(
    client, trusted, acme_member, globex_member, password
):
    from jeto_identity.provider import relying_parties

    secret = relying_parties.rotate_secret(trusted)
    sign_in(client, "gus@globex.test", password)
    verifier, challenge = pkce_pair()
    code = query(client.get(authorize_url(authorize_params(trusted.client_id, challenge)))["Location"])["code"]
    gus_token = client.post(
        "/o/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
            "client_id": trusted.client_id,
            "client_secret": secret,
        },
    ).json()["id_token"]

    same = client.get(authorize_url(_params(trusted, prompt="none", id_token_hint=gus_token)))
    assert "code" in query(same["Location"])

    client.logout()
    sign_in(client, "max@acme.test", password)
    other = client.get(authorize_url(_params(trusted, prompt="none", id_token_hint=gus_token)))
    assert_client_error(other, "login_required")
    interactive = client.get(authorize_url(_params(trusted, id_token_hint=gus_token)))
    assert interactive["Location"].startswith("/login/?") and query(interactive["Location"])["prompt"] == "login"
    forged = client.get(authorize_url(_params(trusted, id_token_hint=gus_token[:-10] + "A" * 10)))
    assert_client_error(forged, "invalid_request")


def test_consent_is_remembered_while_the_client_holds_a_live_token(member_client, db):
    from tests.identity.oidc_support import register_rp as make

    registration = make("Remembered RP")
    rp = registration.client
    verifier, challenge = pkce_pair()
    page = member_client.get(authorize_url(authorize_params(rp.client_id, challenge, scope="openid email")))
    form = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    code = query(member_client.post("/o/authorize/", {**form, "allow": "on"})["Location"])["code"]
    member_client.post(
        "/o/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
            "client_id": rp.client_id,
            "client_secret": registration.client_secret,
        },
    )
    again = member_client.get(authorize_url(_params(rp, scope="openid email", prompt="none")))
    assert "code" in query(again["Location"])
    more = member_client.get(authorize_url(_params(rp, scope="openid email organizations")))
    assert more.status_code == 200  # a new scope needs consent again


def test_one_authorization_request_reads_its_client_once(member_client, trusted):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = member_client.get(authorize_url(_params(trusted)))
        client_reads = sum('FROM "jeto_identity_oauthclient"' in q["sql"] for q in queries.captured_queries)
    assert response.status_code == 302 and query(response["Location"])["code"]
    assert client_reads == 1


def test_a_client_disabled_between_two_requests_is_refused_in_the_second(member_client, trusted):
    assert member_client.get(authorize_url(_params(trusted))).status_code == 302
    trusted.enabled = False
    trusted.save()
    assert_error_page(member_client.get(authorize_url(_params(trusted))))
