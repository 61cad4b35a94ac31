"""Signing keys: from configuration, generated once for development, rotated with the previous key published."""

from __future__ import annotations

import threading

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.management import call_command
from django.test import override_settings
from joserfc import jwt
from joserfc.jwk import KeySet

from jeto_identity.provider import keys
from tests.conftest import sign_in
from tests.identity.oidc_support import REDIRECT_URI, authorize_params, authorize_url, pkce_pair, query, register_rp


@pytest.fixture(scope="module")
def pem_a() -> str:
    return keys.generate_private_key_pem(2048)


@pytest.fixture(scope="module")
def pem_b() -> str:
    return keys.generate_private_key_pem(2048)


def test_dev_key_is_generated_once_and_shared(tmp_path):
    results: list[str] = []

    def load():
        results.append(keys.load_signing_keys(key_dir=tmp_path, generate=True).current)

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1 and results[0].startswith("-----BEGIN PRIVATE KEY-----")
    assert keys.load_signing_keys(key_dir=tmp_path, generate=True).current == results[0]
    assert oct((tmp_path / "current.pem").stat().st_mode)[-3:] == "600"
    assert not list(tmp_path.glob(".tmp-*"))


def test_without_generate_an_empty_directory_yields_no_key(tmp_path):
    assert keys.load_signing_keys(key_dir=tmp_path).current == ""


def test_environment_pem_wins_and_accepts_escaped_newlines(tmp_path, pem_a, pem_b):
    loaded = keys.load_signing_keys(
        pem=pem_a.replace("\n", "\\n"), previous=pem_b + pem_b, key_dir=tmp_path, generate=True
    )
    assert loaded.current == pem_a and loaded.previous == [pem_b, pem_b]
    assert not (tmp_path / "current.pem").exists()


def test_key_files(tmp_path, pem_a, pem_b):
    (tmp_path / "a.pem").write_text(pem_a)
    (tmp_path / "old.pem").write_text(pem_b)
    loaded = keys.load_signing_keys(pem_file=str(tmp_path / "a.pem"), previous_file=str(tmp_path / "old.pem"))
    assert loaded.current == pem_a and loaded.previous == [pem_b]
    with pytest.raises(keys.SigningKeyError):
        keys.load_signing_keys(pem_file=str(tmp_path / "missing.pem"))


@pytest.mark.parametrize(
    "bad",
    [
        "not a key",
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        rsa.generate_private_key(65537, 1024)
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode(),
    ],
)
def test_unusable_keys_are_refused(bad):
    with pytest.raises(keys.SigningKeyError):
        keys.load_signing_keys(pem=bad)


def test_rotate_and_prune_key_directory(tmp_path):
    first = keys.load_signing_keys(key_dir=tmp_path, generate=True).current
    rotated = keys.rotate_key_dir(tmp_path)
    assert rotated.current != first and rotated.previous == [first]
    again = keys.rotate_key_dir(tmp_path, keep=1)
    assert again.previous == [rotated.current]
    keys.prune_key_dir(tmp_path, keep=0)
    assert keys.read_key_dir(tmp_path).previous == []


def test_oidckeys_command_rotates_the_directory(tmp_path, settings):
    settings.OIDC_KEY_DIR = str(tmp_path)
    call_command("oidckeys", "rotate")
    call_command("oidckeys", "rotate")
    assert len(keys.read_key_dir(tmp_path).previous) == 1
    call_command("oidckeys", "show")


def _id_token(client, registration, acme_member_password) -> str:
    verifier, challenge = pkce_pair()
    code = query(client.get(authorize_url(authorize_params(registration.client.client_id, challenge)))["Location"])[
        "code"
    ]
    response = client.post(
        "/o/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
            "client_id": registration.client.client_id,
            "client_secret": registration.client_secret,
        },
    )
    return response.json()["id_token"]


def test_rotation_publishes_both_keys_and_signs_with_the_new_one(client, acme_member, password, settings, pem_a, pem_b):
    registration = register_rp("Rotating RP", trusted=True)
    sign_in(client, "max@acme.test", password)
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "OIDC_RSA_PRIVATE_KEY": pem_a,
        "OIDC_RSA_PRIVATE_KEYS_INACTIVE": [],
    }
    old_token = _id_token(client, registration, password)

    with override_settings(
        OAUTH2_PROVIDER={
            **settings.OAUTH2_PROVIDER,
            "OIDC_RSA_PRIVATE_KEY": pem_b,
            "OIDC_RSA_PRIVATE_KEYS_INACTIVE": [pem_a],
        }
    ):
        jwks = client.get("/o/jwks/").json()
        assert len(jwks["keys"]) == 2
        assert all(set(k) >= {"kid", "n", "e", "alg", "use"} and "d" not in k for k in jwks["keys"])
        keyset = KeySet.import_key_set(jwks)
        new_token = _id_token(client, registration, password)
        new_kid = jwt.decode(new_token, keyset).header["kid"]
        old_kid = jwt.decode(old_token, keyset).header["kid"]  # still verifies after rotation
        assert new_kid != old_kid
        assert new_kid == keys_kid(pem_b) and old_kid == keys_kid(pem_a)
        # An ID token signed before the rotation is still accepted as id_token_hint at logout.
        response = client.get(
            "/o/logout/",
            {"id_token_hint": old_token, "post_logout_redirect_uri": registration.client.post_logout_redirect_uris},
        )
        assert response.status_code == 302
        assert response["Location"] == registration.client.post_logout_redirect_uris


def keys_kid(pem: str) -> str:
    from oauth2_provider.utils import jwk_from_pem

    return jwk_from_pem(pem).thumbprint()
