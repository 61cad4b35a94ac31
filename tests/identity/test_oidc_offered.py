"""What the provider offers is stated once, in django-oauth-toolkit's settings (``oauth2_provider_settings``).

DOT enforces PKCE and its RFC 9700 gates itself (no ``plain``, implicit or password grant); Jeto's server refuses
whatever else DOT only advertises, and discovery publishes exactly what the endpoints accept.
"""

from __future__ import annotations

import base64
import re

import pytest
from django.conf import settings
from django.test import override_settings
from oauth2_provider.models import AbstractApplication
from oauthlib.common import Request
from oauthlib.oauth2.rfc6749 import errors
from oauthlib.openid import Server

from jeto_identity.provider.settings import oauth2_provider_settings
from jeto_identity.provider.validators import JetoOAuth2Validator
from tests.conftest import sign_in
from tests.identity.oidc_support import REDIRECT_URI, authorize_params, authorize_url, pkce_pair, query, register_rp

# Everything oauthlib's OpenID server would dispatch if nothing narrowed it.
EVERY_GRANT_TYPE = sorted(Server(JetoOAuth2Validator()).grant_types)
EVERY_RESPONSE_TYPE = sorted(Server(JetoOAuth2Validator()).response_types)
OFFERED_GRANT_TYPES = ["authorization_code", "refresh_token", "client_credentials"]


@pytest.fixture
def registration(db):
    return register_rp("Offered RP", trusted=True)


@pytest.fixture
def member_client(client, acme_member, password):
    sign_in(client, "max@acme.test", password)
    return client


def _basic(registration) -> str:
    pair = f"{registration.client.client_id}:{registration.client_secret}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


def _tokens(member_client, registration) -> dict:
    verifier, challenge = pkce_pair()
    response = member_client.get(authorize_url(authorize_params(registration.client.client_id, challenge)))
    code = query(response["Location"])["code"]
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, "code_verifier": verifier}
    return member_client.post("/o/token/", data, HTTP_AUTHORIZATION=_basic(registration)).json()


def test_the_settings_helper_states_the_offer_and_turns_dots_gates_on():
    provider = oauth2_provider_settings()
    assert provider["OAUTH2_GRANT_TYPES_SUPPORTED"] == OFFERED_GRANT_TYPES
    assert provider["OIDC_RESPONSE_TYPES_SUPPORTED"] == ["code"]
    assert provider["PKCE_REQUIRED"] is True
    for gate in ("IMPLICIT_GRANT", "PASSWORD_GRANT", "PKCE_METHOD"):
        assert provider[f"COMPLIANT_BCP_RFC9700_{gate}"] is True, gate


def test_discovery_publishes_the_settings(client, db):
    meta = client.get("/.well-known/openid-configuration").json()
    assert meta["grant_types_supported"] == settings.OAUTH2_PROVIDER["OAUTH2_GRANT_TYPES_SUPPORTED"]
    assert meta["response_types_supported"] == settings.OAUTH2_PROVIDER["OIDC_RESPONSE_TYPES_SUPPORTED"]
    assert meta["code_challenge_methods_supported"] == ["S256"]


@pytest.mark.parametrize("grant_type", sorted(set(EVERY_GRANT_TYPE) - set(OFFERED_GRANT_TYPES)))
def test_every_grant_type_not_offered_is_refused(client, registration, grant_type):
    data = {"grant_type": grant_type, "username": "max@acme.test", "password": "x", "device_code": "x"}
    response = client.post("/o/token/", data, HTTP_AUTHORIZATION=_basic(registration))
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


@pytest.mark.parametrize("response_type", sorted(set(EVERY_RESPONSE_TYPE) - {"code"}))
def test_every_response_type_but_code_is_refused(member_client, registration, response_type):
    params = authorize_params(registration.client.client_id, pkce_pair()[1], response_type=response_type)
    response = member_client.get(authorize_url(params))
    # Hybrids and "none" reach the code flow, which no client of ours may use that way; the rest it doesn't handle.
    hybrid_or_none = "code" in response_type.split() or response_type == "none"
    error = "unauthorized_client" if hybrid_or_none else "unsupported_response_type"
    assert response.status_code == 302
    assert query(response["Location"])["error"] == error
    assert "code" not in query(response["Location"])


def test_dot_itself_refuses_plain_pkce_when_issuing_a_code(registration, acme_member):
    """Behind the authorization endpoint's early check, DOT's PKCE gate refuses ``plain`` (oauthlib's default)."""
    request = Request(REDIRECT_URI)
    request.client, request.user, request.scopes = registration.client, acme_member, ["openid"]
    request.redirect_uri, request.code_challenge, request.code_challenge_method = REDIRECT_URI, "x" * 43, "plain"
    with pytest.raises(errors.InvalidRequestError):
        JetoOAuth2Validator().save_authorization_code(registration.client.client_id, {"code": "c"}, request)


@pytest.mark.parametrize(
    ("grant", "check"),
    [
        (AbstractApplication.GRANT_PASSWORD, lambda v, r: v.validate_grant_type(r.client_id, "password", r.client, r)),
        (AbstractApplication.GRANT_IMPLICIT, lambda v, r: v.validate_response_type(r.client_id, "token", r.client, r)),
    ],
)
def test_dot_itself_refuses_the_implicit_and_password_grants(registration, grant, check):
    """Even for a client registered for them, were one ever saved with that grant type."""
    client = registration.client
    client.authorization_grant_type = grant
    request = Request(REDIRECT_URI)
    request.client, request.client_id = client, client.client_id
    assert check(JetoOAuth2Validator(), request) is False


def test_the_narrowed_server_keeps_dots_token_generator(member_client, registration):
    """``ACCESS_TOKEN_GENERATOR`` (256-bit values) still makes the tokens the offered grants issue."""
    tokens = _tokens(member_client, registration)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", tokens["access_token"])
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", tokens["refresh_token"])


def test_an_id_token_is_not_a_bearer_token(member_client, registration):
    tokens = _tokens(member_client, registration)
    assert member_client.get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}").status_code == 200
    assert member_client.get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {tokens['id_token']}").status_code == 401


@pytest.fixture
def rebuilt_server_afterwards(client):
    """DOT keeps the server it built last on the view class: rebuild it from the real settings when done."""
    yield
    with override_settings(OAUTH2_PROVIDER={**settings.OAUTH2_PROVIDER, "ALWAYS_RELOAD_OAUTHLIB_CORE": True}):
        client.post("/o/token/", {"grant_type": "client_credentials"})


def test_the_offer_is_the_one_place(member_client, registration, rebuilt_server_afterwards):
    """Drop the refresh grant from the settings: discovery stops publishing it and the token endpoint refuses it."""
    refresh_token = _tokens(member_client, registration)["refresh_token"]
    offer = [grant for grant in OFFERED_GRANT_TYPES if grant != "refresh_token"]
    provider = {**settings.OAUTH2_PROVIDER, "OAUTH2_GRANT_TYPES_SUPPORTED": offer, "ALWAYS_RELOAD_OAUTHLIB_CORE": True}
    with override_settings(OAUTH2_PROVIDER=provider):
        assert member_client.get("/.well-known/openid-configuration").json()["grant_types_supported"] == offer
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        response = member_client.post("/o/token/", data, HTTP_AUTHORIZATION=_basic(registration))
    assert response.status_code == 400 and response.json()["error"] == "unsupported_grant_type"


# --- a host's own OAUTH2_PROVIDER dict may narrow the offer, never widen it -----------------------------------

# What a hand-written dict (as older docs showed) can end up with: DOT's defaults for the offer, RFC 9700 gates off.
WIDENING = {
    "OAUTH2_GRANT_TYPES_SUPPORTED": [
        "authorization_code",
        "implicit",
        "password",
        "client_credentials",
        "refresh_token",
        "urn:ietf:params:oauth:grant-type:device_code",
    ],
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code", "token", "id_token", "id_token token", "code token", "code id_token"],
    "PKCE_REQUIRED": False,
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": False,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": False,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": False,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": False,
}


@pytest.fixture
def widening_settings(rebuilt_server_afterwards):
    provider = {**settings.OAUTH2_PROVIDER, **WIDENING, "ALWAYS_RELOAD_OAUTHLIB_CORE": True}
    with override_settings(OAUTH2_PROVIDER=provider):
        yield


def test_a_widening_dict_is_a_system_check_error(settings):
    from jeto_identity.provider import checks

    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, **WIDENING}
    assert {m.id for m in checks.check_openid_provider(None)} == {"jeto_identity.E309"}
    for key in ("OAUTH2_GRANT_TYPES_SUPPORTED", "OIDC_RESPONSE_TYPES_SUPPORTED", "PKCE_REQUIRED"):
        settings.OAUTH2_PROVIDER = {**oauth2_provider_settings(), **settings.OAUTH2_PROVIDER, key: WIDENING[key]}
        assert "jeto_identity.E309" in {m.id for m in checks.check_openid_provider(None)}, key


def test_a_narrower_dict_is_no_error(settings):
    from jeto_identity.provider import checks

    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OAUTH2_GRANT_TYPES_SUPPORTED": ["authorization_code"]}
    assert "jeto_identity.E309" not in {m.id for m in checks.check_openid_provider(None)}


def test_a_widening_dict_still_publishes_only_what_jeto_supports(client, db, widening_settings):
    meta = client.get("/.well-known/openid-configuration").json()
    assert sorted(meta["grant_types_supported"]) == sorted(OFFERED_GRANT_TYPES)
    assert meta["response_types_supported"] == ["code"]
    assert meta["code_challenge_methods_supported"] == ["S256"]


@pytest.mark.parametrize("grant_type", ["password", "implicit", "urn:ietf:params:oauth:grant-type:device_code"])
def test_a_widening_dict_still_refuses_other_grants(client, registration, widening_settings, grant_type):
    data = {"grant_type": grant_type, "username": "max@acme.test", "password": "x", "device_code": "x"}
    response = client.post("/o/token/", data, HTTP_AUTHORIZATION=_basic(registration))
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


@pytest.mark.parametrize("response_type", ["token", "id_token", "id_token token"])
def test_a_widening_dict_still_refuses_the_implicit_flow(member_client, registration, widening_settings, response_type):
    params = authorize_params(registration.client.client_id, pkce_pair()[1], response_type=response_type)
    response = member_client.get(authorize_url(params))
    assert response.status_code == 302
    answer = query(response["Location"])
    assert answer["error"] == "unsupported_response_type"
    assert "code" not in answer and "access_token" not in response["Location"]


@pytest.mark.parametrize(
    "pkce",
    [
        {"code_challenge": "x" * 43, "code_challenge_method": "plain"},
        {"code_challenge": None, "code_challenge_method": None},
        {"code_challenge_method": None},  # oauthlib's default method is plain
    ],
)
def test_a_widening_dict_still_requires_s256_pkce(member_client, registration, widening_settings, pkce):
    params = authorize_params(registration.client.client_id, pkce_pair()[1], **pkce)
    response = member_client.get(authorize_url(params))
    assert response.status_code == 302
    answer = query(response["Location"])
    assert answer["error"] == "invalid_request"
    assert "code" not in answer
