"""A brand-new host project, built from docs/integrators.md alone, signs people in and is an OpenID Provider.

Driven over HTTP like a browser and like relying parties nobody here wrote: email-first sign-in (CSRF and all),
admin sign-in through the same pages, two-step verification, discovery, the authorization code flow with PKCE
run by Authlib and its ID token checked with joserfc (signature against the JWKS, ``iss``, ``aud``, ``nonce``,
``amr``, ``organizations``) and an application connection's client-credentials token.
"""

from __future__ import annotations

import base64
import re
from urllib.parse import urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from django_otp.oath import totp
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.identity.oidc_support import UserAgent, form_inputs, query
from tests.packaging.conftest import PASSWORD, REDIRECT_URI, SUPERUSER

pytestmark = pytest.mark.slow

DOCUMENTED_SCOPES = {"openid", "profile", "email", "organizations"}
DOCUMENTED_CLAIMS = {
    "sub", "name", "given_name", "family_name", "email", "email_verified", "organizations", "auth_time", "amr",
}  # fmt: skip


def test_check_reports_nothing_from_the_app(host_project):
    result = host_project.manage("check")
    assert "jeto_identity." not in result.stdout + result.stderr


def test_a_host_without_the_app_settings_fails_its_checks(host_project):
    """The checks answer a newcomer who stopped half-way: DOT's defaults and Django's password rules."""
    (host_project.directory / "host" / "halfway.py").write_text(
        "from host.settings import *  # noqa\n"
        "del OAUTH2_PROVIDER\n"
        'AUTH_PASSWORD_VALIDATORS = [{"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"}]\n'
    )
    result = host_project.manage_may_fail("check", "--settings", "host.halfway")
    assert result.returncode != 0
    assert "jeto_identity.E304" in result.stderr and "jeto_identity.E015" in result.stderr


def test_email_first_sign_in(host_server, host_data):
    agent = UserAgent(host_server.url)
    page = agent.get("/login/")
    assert page.status_code == 200 and agent.http.cookies.get("csrftoken")
    to_password = agent.post_form("/login/", {"email": host_data.email})
    assert to_password.status_code == 302 and urlsplit(to_password.headers["Location"]).path == "/login/password/"
    assert agent.post_form("/login/password/", {"password": "not the password"}).status_code == 400
    signed_in = agent.post_form("/login/password/", {"password": PASSWORD})
    assert signed_in.status_code == 302
    account = agent.get(signed_in.headers["Location"])
    assert account.status_code == 200 and host_data.email in account.text


def test_passwords_shorter_than_the_documented_minimum_are_refused(host_server, host_data):
    agent = UserAgent(host_server.url)
    agent.sign_in(agent.get("/account/password/"), host_data.email, PASSWORD)
    page = agent.get("/account/password/")
    eleven = "eleven char"
    refused = agent.post_form(
        "/account/password/",
        {**form_inputs(page.text), "old_password": PASSWORD, "new_password1": eleven, "new_password2": eleven},
    )
    assert refused.status_code == 400 and "at least 12 characters" in refused.text


def test_admin_sign_in_goes_through_the_apps_pages(host_server):
    agent = UserAgent(host_server.url)
    to_admin_login = agent.get("/admin/")
    assert to_admin_login.status_code == 302
    to_our_login = agent.get(to_admin_login.headers["Location"])
    assert to_our_login.headers["Location"] == "/login/?next=%2Fadmin%2F"
    back = agent.sign_in(to_our_login, SUPERUSER, PASSWORD)
    assert back.headers["Location"] == "/admin/"
    admin = agent.get("/admin/")
    assert admin.status_code == 200 and 'href="/admin/jeto_identity/organization/"' in admin.text


def test_discovery_publishes_the_documented_scopes_and_claims(host_server):
    meta = requests.get(f"{host_server.url}/.well-known/openid-configuration", timeout=10).json()
    assert meta["issuer"] == host_server.url
    assert DOCUMENTED_SCOPES <= set(meta["scopes_supported"])
    assert DOCUMENTED_CLAIMS <= set(meta["claims_supported"])
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["id_token_signing_alg_values_supported"] == ["RS256"]
    assert meta["token_endpoint"] == f"{host_server.url}/o/token/"


def _relying_party(host_data) -> OAuth2Session:
    return OAuth2Session(
        host_data.rp_client_id,
        host_data.rp_client_secret,
        scope="openid profile email organizations",
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
        timeout=10,
    )


def _sign_in_with_the_code_flow(server, host_data, email: str, second_factor=None) -> dict:
    """An Authlib relying party sends a browser to the host; returns the verified ID token's claims."""
    meta = requests.get(f"{server.url}/.well-known/openid-configuration", timeout=10).json()
    rp = _relying_party(host_data)
    verifier, nonce = generate_token(48), generate_token(16)
    url, state = rp.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce)
    browser = UserAgent(server.url)
    to_login = browser.get(url)
    assert to_login.status_code == 302 and to_login.headers["Location"].startswith("/login/"), to_login.text[:300]
    response = browser.sign_in(to_login, email, PASSWORD)
    if second_factor is not None:
        assert urlsplit(response.headers["Location"]).path == "/login/mfa/"
        challenge = browser.get(response.headers["Location"])
        response = browser.post_form(response.headers["Location"], {**form_inputs(challenge.text), **second_factor()})
        assert response.status_code == 302, response.text[:500]
    consent = browser.follow(response, REDIRECT_URI)
    assert consent.status_code == 200 and "Acme Wiki" in consent.text  # a third-party client asks for consent
    callback = browser.consent(consent)
    assert callback.status_code == 302 and callback.headers["Location"].startswith(REDIRECT_URI)
    assert query(callback.headers["Location"])["iss"] == server.url  # RFC 9207

    token = rp.fetch_token(
        meta["token_endpoint"],
        authorization_response=callback.headers["Location"],
        code_verifier=verifier,
        state=state,
    )
    keys = KeySet.import_key_set(requests.get(meta["jwks_uri"], timeout=10).json())
    decoded = jwt.decode(token["id_token"], keys, algorithms=["RS256"])  # the signature, against the JWKS
    assert decoded.header["kid"] in {key.kid for key in keys}
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": server.url},
        aud={"essential": True, "value": host_data.rp_client_id},
        nonce={"essential": True, "value": nonce},
        exp={"essential": True},
        iat={"essential": True},
    ).validate(decoded.claims)
    return decoded.claims


def test_code_flow_with_pkce_issues_a_verified_id_token(host_server, host_data):
    claims = _sign_in_with_the_code_flow(host_server, host_data, host_data.email)
    assert claims["sub"] == host_data.user_id
    assert claims["amr"] == ["pwd"]
    assert claims["organizations"] == [{"slug": "acme", "name": "Acme", "role": "owner"}]
    assert claims["email"] == host_data.email


def test_two_step_verification_then_amr_says_so(host_server, host_data):
    account = UserAgent(host_server.url)
    account.sign_in(account.get("/account/mfa/setup/"), host_data.member_email, PASSWORD)
    setup = account.get("/account/mfa/setup/")
    assert setup.status_code == 200, setup.status_code
    secret = re.search(r'data-testid="mfa-secret">([A-Z2-7 ]+)<', setup.text)[1].replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    enrolled = account.post_form("/account/mfa/setup/", {**form_inputs(setup.text), "code": f"{totp(key):06d}"})
    assert enrolled.status_code == 302, enrolled.text[:500]

    # A code works once: the challenge gets the next time step's code (within the accepted tolerance).
    second_factor = lambda: {"code": f"{totp(key, drift=1):06d}"}  # noqa: E731
    claims = _sign_in_with_the_code_flow(host_server, host_data, host_data.member_email, second_factor)
    assert claims["sub"] == host_data.member_id
    assert claims["organizations"] == [{"slug": "acme", "name": "Acme", "role": "member"}]
    assert {"pwd", "otp", "mfa"} <= set(claims["amr"])


def test_application_connection_gets_a_client_credentials_token(host_server, host_data):
    credentials = (host_data.api_client_id, host_data.api_client_secret)
    issued = requests.post(
        f"{host_server.url}/o/token/",
        data={"grant_type": "client_credentials", "scope": host_data.api_scope},
        auth=credentials,
        timeout=10,
    )
    assert issued.status_code == 200, issued.text
    token = issued.json()
    assert token["token_type"] == "Bearer" and token["scope"] == host_data.api_scope and token["access_token"]
    introspected = requests.post(
        f"{host_server.url}/o/introspect/", data={"token": token["access_token"]}, auth=credentials, timeout=10
    ).json()
    assert introspected["active"] is True and introspected["client_id"] == host_data.api_client_id
    wrong = requests.post(
        f"{host_server.url}/o/token/",
        data={"grant_type": "client_credentials"},
        auth=(host_data.api_client_id, "wrong"),
        timeout=10,
    )
    assert wrong.status_code == 401
