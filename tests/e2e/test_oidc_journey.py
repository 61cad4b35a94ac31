"""Browser journey: a relying party sends the user to Jeto, they sign in and consent, the RP receives the code."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session

from tests.identity.oidc_support import REDIRECT_URI, register_rp

pytestmark = pytest.mark.e2e


def test_relying_party_signs_a_user_in_through_jeto(page, live_server, acme_member, password):
    registration = register_rp("Acme Wiki", post_logout_redirect_uris="https://rp.example.test/signed-out")
    discovery = requests.get(f"{live_server.url}/.well-known/openid-configuration", timeout=10).json()
    rp = OAuth2Session(
        registration.client.client_id,
        registration.client_secret,
        scope="openid email profile",
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
        timeout=10,
    )
    verifier = generate_token(48)
    nonce = generate_token(16)
    authorize_url, state = rp.create_authorization_url(
        discovery["authorization_endpoint"], code_verifier=verifier, nonce=nonce, login_hint="max@acme.test"
    )

    received: list[str] = []

    def relying_party_callback(route):
        received.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<h1>Acme Wiki: signed in</h1>")

    page.route("https://rp.example.test/**", relying_party_callback)

    page.goto(authorize_url)
    page.wait_for_url("**/login/**")
    assert page.get_by_label("Email address").input_value() == "max@acme.test"  # login_hint prefilled
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url("**/o/authorize/**")
    assert page.get_by_role("heading", name="Allow Acme Wiki to sign you in?").is_visible()
    assert page.get_by_test_id("consent-scopes").get_by_text("Your email address").is_visible()
    page.get_by_role("button", name="Allow").click()

    page.get_by_text("Acme Wiki: signed in").wait_for()
    assert len(received) == 1
    callback = parse_qs(urlsplit(received[0]).query)
    assert callback["state"] == [state]
    assert callback["iss"] == [discovery["issuer"]]

    token = rp.fetch_token(
        discovery["token_endpoint"], authorization_response=received[0], code_verifier=verifier, state=state
    )
    assert token["id_token"] and token["refresh_token"]
    userinfo = requests.get(
        discovery["userinfo_endpoint"], headers={"Authorization": f"Bearer {token['access_token']}"}, timeout=10
    ).json()
    assert userinfo["sub"] == str(acme_member.pk) and userinfo["email"] == "max@acme.test"


def test_unregistered_redirect_uri_stops_on_our_error_page(page, live_server, acme_member):
    registration = register_rp("Acme Wiki")
    leaked: list[str] = []
    page.route("https://evil.example/**", lambda route: (leaked.append(route.request.url), route.abort()))
    page.goto(
        f"/o/authorize/?response_type=code&client_id={registration.client.client_id}"
        "&redirect_uri=https%3A%2F%2Fevil.example%2Fcb&scope=openid&code_challenge="
        + "a" * 43
        + "&code_challenge_method=S256"
    )
    assert page.get_by_role("heading", name="This sign-in request can't be completed").is_visible()
    assert not leaked
