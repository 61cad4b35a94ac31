"""TOTP secrets are encrypted at rest in django-otp's key column (AES-SIV, bound to the owner)."""

from __future__ import annotations

import binascii

from django.test import override_settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from jeto_identity.mfa import services as mfa
from jeto_identity.mfa import totp_keys
from jeto_identity.models import EncryptedTOTPDevice

from .mfa_support import code_for, code_for_key, enrol


def test_stored_key_is_not_the_secret(acme_member):
    device = mfa.start_enrolment(acme_member)
    stored = TOTPDevice.objects.get(pk=device.pk).key
    secret = device.bin_key
    assert stored.startswith("enc1:") and len(stored) <= 80
    assert binascii.hexlify(secret).decode() not in stored
    assert mfa.base32_secret(device) not in stored


def test_plain_django_otp_model_cannot_use_the_stored_value_as_a_key(acme_member):
    device, _ = enrol(acme_member)
    plain = TOTPDevice.objects.get(pk=device.pk)
    try:
        wrong = plain.bin_key
    except (binascii.Error, ValueError):
        wrong = None
    assert wrong != device.bin_key


def test_rotation_new_key_first_old_key_still_opens(acme_member):
    with override_settings(JETO_IDENTITY={"TOTP_ENCRYPTION_KEYS": ["old-secret-0123456789"]}):
        device, _ = enrol(acme_member)
        secret = device.bin_key
    with override_settings(JETO_IDENTITY={"TOTP_ENCRYPTION_KEYS": ["new-secret-9876543210", "old-secret-0123456789"]}):
        assert EncryptedTOTPDevice.objects.get(pk=device.pk).bin_key == secret
        assert mfa.verify_second_factor(acme_member, code_for_key(secret)).ok


def test_without_the_key_verification_fails_closed(acme_member):
    with override_settings(JETO_IDENTITY={"TOTP_ENCRYPTION_KEYS": ["old-secret-0123456789"]}):
        device, _ = enrol(acme_member)
        code = code_for(device)
    with override_settings(JETO_IDENTITY={"TOTP_ENCRYPTION_KEYS": ["unrelated-secret-000000"]}):
        assert not mfa.verify_second_factor(acme_member, code).ok


def test_ciphertext_moved_to_another_user_does_not_open(acme_member, globex_member):
    device, _ = enrol(acme_member)
    other, _ = enrol(globex_member)
    TOTPDevice.objects.filter(pk=other.pk).update(key=TOTPDevice.objects.get(pk=device.pk).key)
    assert not mfa.verify_second_factor(globex_member, code_for(device)).ok


def test_tampered_ciphertext_does_not_open(acme_member):
    device, _ = enrol(acme_member)
    stored = TOTPDevice.objects.get(pk=device.pk).key
    flipped = stored[:-2] + ("A" if stored[-2] != "A" else "B") + stored[-1]
    TOTPDevice.objects.filter(pk=device.pk).update(key=flipped)
    try:
        totp_keys.decrypt(flipped, acme_member.pk)
        opened = True
    except totp_keys.KeyDecryptionError:
        opened = False
    assert not opened
    assert not mfa.verify_second_factor(acme_member, code_for(device)).ok
