"""ID-token verification through the backend's real path, with tokens we sign ourselves.

The connection's JWKS cache holds our test key (as if the IdP published it); the discovery document and any JWKS
refresh come from the real IdP on loopback, so an unknown ``kid`` triggers a genuine refetch.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.cache import cache

from jeto_identity.sso.oidc import metadata
from jeto_identity.sso.oidc.backend import IdTokenRejected, OrganizationOIDCBackend
from tests.sso_support import CLIENT_ID, make_connection

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sso_env")]

NONCE = "n-0123456789abcdef0123456789abcdef"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(private_key, kid: str, alg: str) -> dict:
    algorithm = jwt.algorithms.RSAAlgorithm if alg.startswith("RS") else jwt.algorithms.ECAlgorithm
    jwk = json.loads(algorithm.to_jwk(private_key.public_key()))
    return {**jwk, "kid": kid, "alg": alg, "use": "sig"}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture
def backend(acme, idp):
    connection = make_connection(acme, idp.url)
    backend = OrganizationOIDCBackend()
    backend.bind(connection)  # discovery from the real IdP
    cache.set(
        metadata._key(connection, "jwks"),
        {"keys": [public_jwk(RSA_KEY, "rsa-1", "RS256"), public_jwk(EC_KEY, "ec-1", "ES256")]},
    )
    return backend


def claims(backend, **overrides) -> dict:
    now = int(time.time())
    base = {
        "iss": backend.metadata.issuer,
        "sub": "user-1",
        "aud": CLIENT_ID,
        "iat": now,
        "exp": now + 300,
        "nonce": NONCE,
        "email": "a@acme.test",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def sign(payload: dict, key=RSA_KEY, kid: str = "rsa-1", alg: str = "RS256") -> str:
    return jwt.encode(payload, key, algorithm=alg, headers={"kid": kid})


def test_a_correct_rs256_token_is_accepted(backend):
    assert backend.verify_token(sign(claims(backend)), nonce=NONCE)["sub"] == "user-1"


def test_a_correct_es256_token_is_accepted(backend):
    token = sign(claims(backend), key=EC_KEY, kid="ec-1", alg="ES256")
    assert backend.verify_token(token, nonce=NONCE)["sub"] == "user-1"


@pytest.mark.parametrize(
    "overrides",
    [
        {"iss": "https://evil.test"},
        {"iss": "PLACEHOLDER/"},  # not exactly the issuer
        {"aud": "someone-else"},
        {"aud": [CLIENT_ID, "someone-else"]},  # several audiences and no azp
        {"azp": "someone-else"},
        {"exp": int(time.time()) - 120},
        {"exp": None},
        {"iat": None},
        {"sub": None},
        {"nonce": "another-nonce"},
        {"nonce": None},
    ],
    ids=[
        "foreign-iss",
        "iss-trailing-slash",
        "aud",
        "multi-aud-no-azp",
        "azp",
        "expired",
        "no-exp",
        "no-iat",
        "no-sub",
        "nonce",
        "no-nonce",
    ],
)
def test_tokens_with_wrong_claims_are_rejected(backend, overrides):
    if overrides.get("iss") == "PLACEHOLDER/":
        overrides = {"iss": backend.metadata.issuer + "/"}
    with pytest.raises(IdTokenRejected):
        backend.verify_token(sign(claims(backend, **overrides)), nonce=NONCE)


def test_a_re_signed_token_is_rejected(backend):
    """Same kid, different key: the attacker changed the claims and signed with their own key."""
    token = sign(claims(backend, sub="admin"), key=OTHER_RSA_KEY, kid="rsa-1")
    with pytest.raises(IdTokenRejected):
        backend.verify_token(token, nonce=NONCE)


def test_tampered_payload_is_rejected(backend):
    header, _, signature = sign(claims(backend)).split(".")
    payload = b64(json.dumps(claims(backend, sub="admin")).encode())
    with pytest.raises(IdTokenRejected):
        backend.verify_token(f"{header}.{payload}.{signature}", nonce=NONCE)


def test_an_unknown_kid_refetches_the_jwks_once_then_rejects(backend, monkeypatch):
    calls = []
    original = metadata._fetch_jwks
    monkeypatch.setattr(metadata, "_fetch_jwks", lambda *a: calls.append(1) or original(*a))
    token = sign(claims(backend), key=OTHER_RSA_KEY, kid="attacker-kid")
    with pytest.raises(metadata.UnknownSigningKey):
        backend.verify_token(token, nonce=NONCE)
    assert calls == [1]  # refreshed from the real IdP, which doesn't know the key either
    with pytest.raises(metadata.UnknownSigningKey):
        backend.verify_token(token, nonce=NONCE)
    assert calls == [1]  # and not again within the refresh interval


def test_a_rotated_key_is_picked_up_on_refresh(backend, monkeypatch):
    rotated = {"keys": [public_jwk(OTHER_RSA_KEY, "rsa-2", "RS256")]}
    monkeypatch.setattr(metadata.http, "get_json", lambda url, what: rotated)
    token = sign(claims(backend), key=OTHER_RSA_KEY, kid="rsa-2")
    assert backend.verify_token(token, nonce=NONCE)["sub"] == "user-1"


def test_alg_none_is_rejected(backend):
    header = b64(json.dumps({"alg": "none", "kid": "rsa-1"}).encode())
    payload = b64(json.dumps(claims(backend)).encode())
    with pytest.raises(IdTokenRejected):
        backend.verify_token(f"{header}.{payload}.", nonce=NONCE)


def test_hs256_signed_with_the_public_key_is_rejected(backend):
    """The classic key-confusion attack: HMAC with the IdP's public key as the shared secret."""
    pem = RSA_KEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    header = b64(json.dumps({"alg": "HS256", "kid": "rsa-1"}).encode())
    payload = b64(json.dumps(claims(backend)).encode())
    signature = b64(hmac.new(pem, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    with pytest.raises(IdTokenRejected):
        backend.verify_token(f"{header}.{payload}.{signature}", nonce=NONCE)


def test_an_allowed_alg_with_the_wrong_key_type_is_rejected(backend):
    """ES256 in the header but the kid names an RSA key."""
    token = sign(claims(backend), key=EC_KEY, kid="rsa-1", alg="ES256")
    with pytest.raises(metadata.UnknownSigningKey):
        backend.verify_token(token, nonce=NONCE)


def test_rs512_is_not_on_the_allow_list(backend):
    token = jwt.encode(claims(backend), RSA_KEY, algorithm="RS512", headers={"kid": "rsa-1"})
    with pytest.raises(IdTokenRejected):
        backend.verify_token(token, nonce=NONCE)


def test_garbage_is_rejected(backend):
    with pytest.raises(IdTokenRejected):
        backend.verify_token("not-a-jwt", nonce=NONCE)


def test_backend_ignores_password_logins_and_foreign_requests(rf):
    from django.contrib.auth import authenticate

    request = rf.get("/sso/x/callback/?code=a&state=b")
    assert OrganizationOIDCBackend().authenticate(request, nonce="n", code_verifier="v") is None
    assert authenticate(request, email="nobody@acme.test", password="x") is None


def test_only_google_gets_its_documented_issuer_alias(backend):
    from jeto_identity.sso.oidc import backend as backend_module

    with pytest.raises(IdTokenRejected):
        backend.verify_token(sign(claims(backend, iss=backend.metadata.issuer.split("//")[1])), nonce=NONCE)
    google = "https://accounts.google.com"
    backend.metadata = backend.metadata.__class__(**{**backend.metadata.__dict__, "issuer": google})
    assert backend_module.ISSUER_ALIASES[google] == ("accounts.google.com",)
    assert backend.verify_token(sign(claims(backend, iss="accounts.google.com")), nonce=NONCE)["sub"] == "user-1"
    assert backend.verify_token(sign(claims(backend, iss=google)), nonce=NONCE)["sub"] == "user-1"
