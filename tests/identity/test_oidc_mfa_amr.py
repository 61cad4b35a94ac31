"""The ID token carries what the sign-in pipeline recorded: a second factor shows up in `amr`."""

from __future__ import annotations

from joserfc import jwt
from joserfc.jwk import KeySet

from tests.identity.mfa_support import enrol, sign_in_fully
from tests.identity.oidc_support import REDIRECT_URI, authorize_params, authorize_url, pkce_pair, query, register_rp


def test_mfa_sign_in_is_reflected_in_amr_and_auth_time(client, acme_member, password):
    registration = register_rp("MFA-aware RP", trusted=True)
    device, _codes = enrol(acme_member)
    verifier, challenge = pkce_pair()
    url = authorize_url(authorize_params(registration.client.client_id, challenge))
    first = client.get(url)
    assert first.status_code == 302 and first.url.startswith("/login/")
    done = sign_in_fully(client, acme_member, device, password, next_url=query(first.url)["next"])
    assert done.status_code == 302
    code = query(client.get(done.url)["Location"])["code"]
    tokens = client.post(
        "/o/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
            "client_id": registration.client.client_id,
            "client_secret": registration.client_secret,
        },
    ).json()
    claims = jwt.decode(tokens["id_token"], KeySet.import_key_set(client.get("/o/jwks/").json())).claims
    assert "pwd" in claims["amr"] and len(claims["amr"]) >= 2, claims["amr"]
    assert claims["amr"] == client.session["jeto_amr"]
