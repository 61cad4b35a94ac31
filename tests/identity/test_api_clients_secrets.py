"""Client secrets: generated with >= 256 bits, stored as a keyed hash, never shown again."""

from __future__ import annotations

import logging
import math

import pytest
from django.contrib.auth.hashers import check_password, identify_hasher, make_password
from django.core.exceptions import ValidationError
from django.test import override_settings
from oauth2_provider.generators import generate_client_secret

from jeto_identity.conf import jeto_settings
from jeto_identity.connections import services as clients
from jeto_identity.core.hashers import ClientSecretHasher
from jeto_identity.models import OAuthClient
from tests.api_clients_support import request_token


def _bits(secret: str) -> float:
    return len(secret) * math.log2(64)  # URL-safe base64 alphabet


def test_generated_secrets_carry_at_least_256_bits():
    secrets_ = {clients.generate_secret() for _ in range(50)}
    assert len(secrets_) == 50
    assert all(_bits(s) >= 256 for s in secrets_)
    assert all(_bits(s) >= 256 for s in [generate_client_secret()])  # DOT's generator setting points at ours


def test_secret_bytes_setting_cannot_go_below_256_bits(settings):
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "CLIENT_SECRET_BYTES": 8}
    assert _bits(clients.generate_secret()) >= 256


def test_secret_is_stored_only_as_a_keyed_hash(acme_conn):
    stored = OAuthClient.objects.get(pk=acme_conn.client.pk).client_secret
    assert acme_conn.client_secret not in stored
    assert identify_hasher(stored).algorithm == ClientSecretHasher.algorithm
    assert check_password(acme_conn.client_secret, stored)
    assert not check_password(acme_conn.client_secret + "x", stored)


def test_hash_depends_on_the_pepper(settings):
    encoded = make_password("s3cret-value", hasher=ClientSecretHasher.algorithm)
    assert check_password("s3cret-value", encoded)
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "CLIENT_SECRET_PEPPER": "another-pepper"}
    assert not check_password("s3cret-value", encoded)


def test_hash_summary_and_repr_reveal_nothing(acme_conn):
    stored = OAuthClient.objects.get(pk=acme_conn.client.pk).client_secret
    summary = ClientSecretHasher().safe_summary(stored)
    assert stored.split("$")[-1] not in str(summary)
    assert acme_conn.client_secret not in repr(acme_conn)
    assert acme_conn.client_secret not in str(acme_conn)
    assert acme_conn.client_secret not in repr(acme_conn.client)


def test_user_passwords_still_use_argon2():
    assert identify_hasher(make_password("a user password")).algorithm == "argon2"


def test_scopes_are_checked_against_the_catalogue(acme):
    with pytest.raises(ValidationError):
        clients.issue_client(organization=acme, name="Bad", scopes="org:read admin:everything")
    with pytest.raises(ValidationError):
        clients.issue_client(organization=acme, name="None", scopes="")
    with pytest.raises(ValidationError):
        clients.issue_client(organization=acme, name="  ", scopes="org:read")
    assert not OAuthClient.objects.exists()


def test_issued_client_shape(acme, acme_admin):
    issued = clients.issue_client(
        organization=acme, name="Sync", scopes=["members:read", "org:read"], created_by=acme_admin
    )
    c = issued.client
    assert c.client_type == OAuthClient.CLIENT_CONFIDENTIAL
    assert c.authorization_grant_type == OAuthClient.GRANT_CLIENT_CREDENTIALS
    assert c.allowed_scopes == "members:read org:read"
    assert c.created_by == acme_admin and c.enabled and c.is_application_connection


def test_rotation_keeps_previous_hash_for_grace(acme_conn):
    before = OAuthClient.objects.get(pk=acme_conn.client.pk).client_secret
    issued = clients.rotate_secret(acme_conn.client)
    c = OAuthClient.objects.get(pk=acme_conn.client.pk)
    assert c.previous_client_secret == before
    grace = (c.previous_secret_expires_at - c.secret_rotated_at).total_seconds()
    assert grace == jeto_settings.CLIENT_SECRET_GRACE_SECONDS == 24 * 3600
    assert clients.check_client_secret(c, acme_conn.client_secret)
    assert clients.check_client_secret(c, issued.client_secret)
    clients.end_grace_period(c)
    c.refresh_from_db()
    assert not clients.check_client_secret(c, acme_conn.client_secret)


@override_settings(JETO_IDENTITY={"CLIENT_SECRET_GRACE_SECONDS": 60})
def test_grace_period_is_configurable(acme_conn):
    clients.rotate_secret(acme_conn.client)
    c = OAuthClient.objects.get(pk=acme_conn.client.pk)
    assert (c.previous_secret_expires_at - c.secret_rotated_at).total_seconds() == 60


def test_secret_never_reaches_the_logs(client, acme_conn, caplog):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("oauthlib").setLevel(logging.DEBUG)
    request_token(client, acme_conn.client_id, acme_conn.client_secret)
    request_token(client, acme_conn.client_id, acme_conn.client_secret, method="post")
    request_token(client, acme_conn.client_id, acme_conn.client_secret + "x")
    rotated = clients.rotate_secret(acme_conn.client)
    request_token(client, acme_conn.client_id, rotated.client_secret)
    assert caplog.records  # the flows above did log
    for secret in (acme_conn.client_secret, rotated.client_secret):
        assert secret not in caplog.text


def test_system_checks_catch_hasher_and_scope_misconfiguration(settings):
    from jeto_identity.connections.checks import check_client_secret_hashing, check_client_secret_pepper

    assert check_client_secret_hashing(None) == []
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    assert [e.id for e in check_client_secret_hashing(None)] == ["jeto_identity.E401"]
    settings.PASSWORD_HASHERS = ["jeto_identity.core.hashers.ClientSecretHasher"]
    assert "jeto_identity.E402" in [e.id for e in check_client_secret_hashing(None)]
    settings.PASSWORD_HASHERS = [
        "jeto_identity.core.hashers.OwaspArgon2PasswordHasher",
        "jeto_identity.core.hashers.ClientSecretHasher",
    ]
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "SCOPES": {"read": "r"}}
    assert [e.id for e in check_client_secret_hashing(None)] == ["jeto_identity.W401"]
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "CLIENT_SECRET_PEPPER": ""}
    assert [w.id for w in check_client_secret_pepper(None)] == ["jeto_identity.W402"]
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "CLIENT_SECRET_PEPPER": "p" * 40}
    assert check_client_secret_pepper(None) == []


def test_pepper_rotation_keeps_old_hashes_valid(settings):
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "CLIENT_SECRET_PEPPER": ["old-pepper"]}
    encoded = make_password("s3cret-value", hasher=ClientSecretHasher.algorithm)
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "CLIENT_SECRET_PEPPER": ["new-pepper", "old-pepper"]}
    assert check_password("s3cret-value", encoded)
    fresh = make_password("s3cret-value", hasher=ClientSecretHasher.algorithm)
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "CLIENT_SECRET_PEPPER": ["new-pepper"]}
    assert check_password("s3cret-value", fresh) and not check_password("s3cret-value", encoded)


def test_secret_key_rotation_with_fallbacks_keeps_client_secrets(settings):
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "CLIENT_SECRET_PEPPER": []}
    old_key = settings.SECRET_KEY
    encoded = make_password("s3cret-value", hasher=ClientSecretHasher.algorithm)
    settings.SECRET_KEY = "a-brand-new-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert check_password("s3cret-value", encoded)
    settings.SECRET_KEY_FALLBACKS = []
    assert not check_password("s3cret-value", encoded)
