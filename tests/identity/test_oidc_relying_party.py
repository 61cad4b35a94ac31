"""A relying-party library nobody here wrote (Authlib) signs a user in against the live portal.

Authlib is given nothing but the discovery URL, the client ID and secret and the redirect URI; it does the
discovery, PKCE, state, nonce, token exchange and ID-token verification (signature against our JWKS, iss, aud,
exp, iat, nonce, at_hash). The user signs in through our real pages with a cookie-keeping HTTP client.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.django_client import OAuth
from authlib.integrations.requests_client import OAuth2Session
from django.contrib.sessions.backends.cache import SessionStore
from django.test import RequestFactory
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.identity.oidc_support import POST_LOGOUT_URI, REDIRECT_URI, UserAgent, query, register_rp

SCOPE = "openid profile email organizations"


class RelyingParty:
    """What an integrator writes: an Authlib client registered from our discovery document."""

    def __init__(self, issuer: str, client_id: str, client_secret: str, scope: str = SCOPE) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.oauth = OAuth()
        self.app = self.oauth.register(
            "jeto",
            client_id=client_id,
            client_secret=client_secret,
            server_metadata_url=f"{issuer}/.well-known/openid-configuration",
            client_kwargs={"scope": scope, "code_challenge_method": "S256", "timeout": 10},
        )
        self.session = SessionStore()
        self.metadata = self.app.load_server_metadata()

    def _request(self, path: str):
        request = RequestFactory().get(path)
        request.session = self.session
        return request

    def login_url(self, **kwargs) -> str:
        return self.app.authorize_redirect(self._request("/rp/login"), REDIRECT_URI, **kwargs)["Location"]

    def callback(self, url: str) -> dict:
        return self.app.authorize_access_token(self._request("/callback?" + urlsplit(url).query))

    def logout_url(self, id_token: str, state: str = "bye") -> str:
        request = self._request("/rp/logout")
        return self.app.logout_redirect(
            request, post_logout_redirect_uri=POST_LOGOUT_URI, id_token_hint=id_token, state=state
        )["Location"]

    def http(self, token: dict | None = None) -> OAuth2Session:
        return OAuth2Session(self.client_id, self.client_secret, token=token, timeout=10)


@pytest.fixture
def issuer(live_server) -> str:
    return live_server.url


@pytest.fixture
def registration(db):
    return register_rp("Acme Wiki")


@pytest.fixture
def rp(issuer, registration) -> RelyingParty:
    return RelyingParty(issuer, registration.client.client_id, registration.client_secret)


def sign_in_and_consent(
    rp: RelyingParty, issuer: str, email: str, password: str, **auth_kwargs
) -> tuple[str, UserAgent]:
    """Returns the RP callback URL the browser lands on."""
    agent = UserAgent(issuer)
    first = agent.get(rp.login_url(**auth_kwargs))
    assert first.status_code == 302 and first.headers["Location"].startswith("/login/")
    back = agent.sign_in(first, email, password)
    page = agent.follow(back, REDIRECT_URI)
    assert page.status_code == 200 and "Allow Acme Wiki" in page.text  # third-party client: consent page
    callback = agent.consent(page)
    assert callback.status_code == 302 and callback.headers["Location"].startswith(REDIRECT_URI)
    return callback.headers["Location"], agent


@pytest.fixture
def signed_in(rp, issuer, acme_member, password):
    callback, agent = sign_in_and_consent(rp, issuer, "max@acme.test", password)
    token = rp.callback(callback)
    return callback, token, agent


def test_discovery_advertises_exactly_what_is_supported(rp, issuer):
    meta = rp.metadata
    assert meta["issuer"] == issuer
    assert meta["response_types_supported"] == ["code"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["grant_types_supported"] == ["authorization_code", "refresh_token", "client_credentials"]
    assert meta["id_token_signing_alg_values_supported"] == ["RS256"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert {"openid", "profile", "email", "organizations"} <= set(meta["scopes_supported"])
    assert {"sub", "email", "email_verified", "name", "auth_time", "amr", "organizations"} <= set(
        meta["claims_supported"]
    )
    for endpoint in (
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "revocation_endpoint",
        "introspection_endpoint",
        "end_session_endpoint",
        "jwks_uri",
    ):
        assert meta[endpoint].startswith(issuer + "/o/"), endpoint
    jwks = requests.get(meta["jwks_uri"], timeout=10).json()
    assert jwks["keys"] and all("d" not in key and "p" not in key and "q" not in key for key in jwks["keys"])
    assert all(key["alg"] == "RS256" and key["use"] == "sig" and key["kid"] for key in jwks["keys"])


def test_authlib_completes_the_code_flow_and_verifies_the_id_token(signed_in, rp, issuer, acme_member):
    callback, token, _agent = signed_in
    params = query(callback)
    assert params["iss"] == issuer  # RFC 9207
    assert params["state"]
    claims = token["userinfo"]  # Authlib verified signature, iss, aud, exp, iat, nonce and at_hash
    assert claims["sub"] == str(acme_member.pk)
    assert claims["email"] == "max@acme.test" and claims["email_verified"] is False
    assert claims["name"] == "Max Member" and claims["given_name"] == "Max" and claims["family_name"] == "Member"
    assert claims["organizations"] == [{"slug": "acme", "name": "Acme", "role": "member"}]
    assert claims["amr"] == ["pwd"]
    assert isinstance(claims["auth_time"], int) and claims["auth_time"] <= claims["iat"]

    # And independently of Authlib's checks: RS256, a kid from the JWKS, the ID token's registered claims.
    keyset = KeySet.import_key_set(requests.get(rp.metadata["jwks_uri"], timeout=10).json())
    decoded = jwt.decode(token["id_token"], keyset, algorithms=["RS256"])
    assert decoded.header["alg"] == "RS256" and decoded.header["kid"] in {k.kid for k in keyset}
    assert decoded.claims["iss"] == issuer and decoded.claims["aud"] == rp.client_id
    assert decoded.claims["exp"] > decoded.claims["iat"]
    assert decoded.claims["at_hash"]


def test_userinfo_get_and_post_agree_with_the_id_token(signed_in, rp):
    _callback, token, _agent = signed_in
    endpoint = rp.metadata["userinfo_endpoint"]
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    got = requests.get(endpoint, headers=bearer, timeout=10)
    posted = requests.post(endpoint, headers=bearer, timeout=10)
    assert got.status_code == posted.status_code == 200
    assert got.json()["sub"] == posted.json()["sub"] == token["userinfo"]["sub"]
    assert "amr" not in got.json()  # authentication-event claims are ID-token only
    assert requests.get(endpoint, timeout=10).status_code == 401
    in_query = requests.get(endpoint, params={"access_token": token["access_token"]}, timeout=10)
    assert in_query.status_code == 400  # RFC 9700: never in the query string


def test_refresh_rotates_and_reuse_revokes_the_whole_family(signed_in, rp):
    _callback, token, _agent = signed_in
    session = rp.http(token)
    rotated = session.refresh_token(rp.metadata["token_endpoint"], refresh_token=token["refresh_token"])
    assert rotated["refresh_token"] != token["refresh_token"]
    assert rotated["access_token"] != token["access_token"]
    refreshed_claims = jwt.decode(
        rotated["id_token"], KeySet.import_key_set(requests.get(rp.metadata["jwks_uri"], timeout=10).json())
    ).claims
    assert refreshed_claims["sub"] == token["userinfo"]["sub"]
    assert refreshed_claims["auth_time"] == token["userinfo"]["auth_time"]  # the original sign-in
    assert refreshed_claims["amr"] == ["pwd"]

    with pytest.raises(OAuthError) as replay:
        rp.http().refresh_token(rp.metadata["token_endpoint"], refresh_token=token["refresh_token"])
    assert replay.value.error == "invalid_grant"
    with pytest.raises(OAuthError) as family:
        rp.http().refresh_token(rp.metadata["token_endpoint"], refresh_token=rotated["refresh_token"])
    assert family.value.error == "invalid_grant"
    userinfo = requests.get(
        rp.metadata["userinfo_endpoint"], headers={"Authorization": f"Bearer {rotated['access_token']}"}, timeout=10
    )
    assert userinfo.status_code == 401


def test_revocation_and_introspection_are_client_bound(signed_in, rp, issuer):
    _callback, token, _agent = signed_in
    introspect = rp.metadata["introspection_endpoint"]
    mine = requests.post(
        introspect, data={"token": token["access_token"]}, auth=(rp.client_id, rp.client_secret), timeout=10
    )
    assert mine.status_code == 200
    assert mine.json()["active"] is True and mine.json()["sub"] == token["userinfo"]["sub"]
    assert mine.json()["client_id"] == rp.client_id

    other = register_rp("Other RP")
    theirs = requests.post(
        introspect,
        data={"token": token["access_token"]},
        auth=(other.client.client_id, other.client_secret),
        timeout=10,
    )
    assert theirs.json() == {"active": False}
    anonymous = requests.post(introspect, data={"token": token["access_token"]}, timeout=10)
    assert anonymous.status_code == 401
    wrong_secret = requests.post(
        introspect, data={"token": token["access_token"]}, auth=(rp.client_id, "not-the-secret"), timeout=10
    )
    assert wrong_secret.status_code == 401

    revoke = rp.metadata["revocation_endpoint"]
    # Another client "revoking" our token: 200 per RFC 7009, but nothing happens.
    foreign = requests.post(
        revoke, data={"token": token["access_token"]}, auth=(other.client.client_id, other.client_secret), timeout=10
    )
    assert foreign.status_code == 200
    assert (
        requests.post(
            introspect, data={"token": token["access_token"]}, auth=(rp.client_id, rp.client_secret), timeout=10
        ).json()["active"]
        is True
    )
    unauthenticated = requests.post(
        revoke, data={"token": token["access_token"], "client_id": rp.client_id}, timeout=10
    )
    assert unauthenticated.status_code == 401

    rp.http(token).revoke_token(revoke, token=token["access_token"], token_type_hint="access_token")
    assert requests.post(
        introspect, data={"token": token["access_token"]}, auth=(rp.client_id, rp.client_secret), timeout=10
    ).json() == {"active": False}
    with pytest.raises(OAuthError):  # the bound refresh token went with it
        rp.http().refresh_token(rp.metadata["token_endpoint"], refresh_token=token["refresh_token"])


def test_rp_initiated_logout_ends_the_session_and_returns_to_the_registered_uri(signed_in, rp):
    _callback, token, agent = signed_in
    assert agent.get("/account/").status_code == 200
    response = agent.get(rp.logout_url(token["id_token"], state="see-you"))
    assert response.status_code == 302
    assert response.headers["Location"] == f"{POST_LOGOUT_URI}?state=see-you"
    assert agent.get("/account/").status_code == 302  # signed out at the OP
    assert (
        requests.get(
            rp.metadata["userinfo_endpoint"], timeout=10, headers={"Authorization": f"Bearer {token['access_token']}"}
        ).status_code
        == 401
    )


def test_logout_refuses_an_unregistered_post_logout_uri(signed_in, rp):
    _callback, token, agent = signed_in
    url = rp.metadata["end_session_endpoint"]
    response = agent.http.get(
        url,
        params={"id_token_hint": token["id_token"], "post_logout_redirect_uri": "https://evil.example/"},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 400 and "Location" not in response.headers
    assert agent.get("/account/").status_code == 200  # still signed in
