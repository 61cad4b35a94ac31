"""``manage.py jeto_rotate_keys``: stored TOTP secrets and IdP secrets move to the newest key, so the old can go."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from jeto_identity.mfa import services as mfa
from jeto_identity.models import AuditEvent, SSOConnection
from tests.sso_support import CLIENT_SECRET, make_connection

from .mfa_support import code_for_key, enrol

OLD, NEW = "old-key-0123456789abcdefghij", "new-key-0123456789abcdefghij"
PURPOSES = ("totp", "idp_secret")


@pytest.fixture
def keyring(settings):
    """``keyring(*secrets)``: the TOTP and IdP-secret keys, newest first."""

    def set_(*secrets: str) -> None:
        settings.JETO_IDENTITY = {
            **settings.JETO_IDENTITY,
            "FIELD_ENCRYPTION_KEYS": [],
            "TOTP_ENCRYPTION_KEYS": [],
            "KEYS": {purpose: list(secrets) for purpose in PURPOSES},
        }

    return set_


def rotate(*args: str) -> str:
    out = StringIO()
    call_command("jeto_rotate_keys", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def stored(keyring, acme, acme_member):
    """A TOTP device and an SSO connection, both written under OLD."""
    keyring(OLD)
    device, _ = enrol(acme_member)
    connection = make_connection(acme, "https://idp.acme.test")
    return device, device.bin_key, connection


def test_rotation_moves_every_value_to_the_newest_key(stored, keyring, acme_member):
    device, secret, connection = stored
    keyring(NEW, OLD)
    events = AuditEvent.objects.count()
    out = rotate()
    assert "totp: 1 re-encrypted, 0 already under the newest key, 0 unreadable" in out
    assert "idp_secret: 1 re-encrypted" in out
    assert "client_secret_pepper: not re-encryptable" in out
    assert AuditEvent.objects.count() == events  # only ciphertext changed: no "connection changed" event
    keyring(NEW)
    assert SSOConnection.objects.get(pk=connection.pk).get_client_secret() == CLIENT_SECRET
    assert mfa.verify_second_factor(acme_member, code_for_key(secret)).ok
    keyring(NEW, OLD)
    assert "totp: 0 re-encrypted, 1 already under the newest key" in rotate()


def test_dry_run_writes_nothing(stored, keyring):
    device, _, connection = stored
    keyring(NEW, OLD)
    before = (TOTPDevice.objects.get(pk=device.pk).key, connection.client_secret_encrypted)
    assert "totp: 1 would be re-encrypted" in rotate("--dry-run")
    after = (
        TOTPDevice.objects.get(pk=device.pk).key,
        SSOConnection.objects.get(pk=connection.pk).client_secret_encrypted,
    )
    assert after == before


def test_unreadable_values_are_named_and_fail_the_run_after_the_rest_rotated(stored, keyring, globex_member):
    device, _, connection = stored
    keyring("a-key-nobody-kept-0123456789")
    lost, _ = enrol(globex_member)
    keyring(NEW, OLD)
    with pytest.raises(CommandError, match=rf"totp: ids {lost.pk}\b"):
        rotate()
    keyring(NEW)
    assert SSOConnection.objects.get(pk=connection.pk).get_client_secret() == CLIENT_SECRET


def test_moving_off_secret_key_with_the_secret_key_entry(settings, keyring, acme, acme_member):
    keyring()  # no keys of their own: derived from SECRET_KEY
    device, _ = enrol(acme_member)
    secret = device.bin_key
    connection = make_connection(acme, "https://idp.acme.test")
    keyring(NEW, "SECRET_KEY")
    assert "totp: 1 re-encrypted" in rotate()
    keyring(NEW)
    settings.SECRET_KEY = "a-different-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
    assert SSOConnection.objects.get(pk=connection.pk).get_client_secret() == CLIENT_SECRET
    assert mfa.verify_second_factor(acme_member, code_for_key(secret)).ok


def test_plain_hex_keys_from_elsewhere_are_left_alone(keyring, acme_member):
    keyring(NEW)
    plain = TOTPDevice.objects.create(
        user=acme_member, name="made elsewhere", key="3132333435363738393031323334353637383930"
    )
    assert "totp: 0 re-encrypted, 0 already" in rotate()
    assert TOTPDevice.objects.get(pk=plain.pk).key == plain.key
