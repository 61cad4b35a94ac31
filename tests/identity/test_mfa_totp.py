"""The verification path (services.mfa) on django-otp: RFC 6238 vectors, window, replay, throttling, codes."""

from __future__ import annotations

import binascii
import re
from datetime import timedelta
from unittest import mock
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from django.test import override_settings
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from jeto_identity.mfa import services as mfa

from .mfa_support import code_for, decode_qr_luminance, enrol, rasterize_qr_svg

RFC_SEED = b"12345678901234567890"
# RFC 6238 Appendix B, SHA1 column: (Unix time, 8-digit TOTP).
RFC6238_SHA1 = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]


def _rfc_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(
        user=user, name="rfc", confirmed=True, key=binascii.hexlify(RFC_SEED).decode(), digits=8, step=30, t0=0
    )


@pytest.mark.parametrize(("at", "expected"), RFC6238_SHA1)
def test_rfc6238_sha1_vectors_through_verification(acme_member, at, expected):
    device = _rfc_device(acme_member)
    with mock.patch("time.time", return_value=float(at)):
        assert not mfa.verify_second_factor(acme_member, "00000000").ok  # a wrong code fails...
        device.refresh_from_db()
        device.throttle_reset()
        result = mfa.verify_second_factor(acme_member, expected)  # ...the RFC's code passes
    assert result.ok and result.method == "totp"
    device.refresh_from_db()
    assert device.last_t == (at - 0) // 30


def test_window_is_one_step_either_side_and_never_widened_by_drift(acme_member):
    device = _rfc_device(acme_member)
    now = 1_700_000_000.0
    with mock.patch("time.time", return_value=now):
        for offset in (-2, 2):
            assert not mfa.verify_second_factor(acme_member, code_for(device, now, offset)).ok
            TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
        assert mfa.verify_second_factor(acme_member, code_for(device, now, -1)).ok
        assert mfa.verify_second_factor(acme_member, code_for(device, now, +1)).ok  # later step: not a replay
    device.refresh_from_db()
    assert device.drift == 0  # OTP_TOTP_SYNC off: accepted codes don't move the window
    TOTPDevice.objects.filter(pk=device.pk).update(drift=5)  # even a stored drift is ignored
    with mock.patch("time.time", return_value=now + 90):
        assert not mfa.verify_second_factor(acme_member, code_for(device, now + 90, 5)).ok


def test_code_is_accepted_once(acme_member):
    device, _ = enrol(acme_member)
    code = code_for(device)
    assert mfa.verify_second_factor(acme_member, code).ok
    assert not mfa.verify_second_factor(acme_member, code).ok
    # ...and an older code is no good either once a newer one has been used.
    assert not mfa.verify_second_factor(acme_member, code_for(device, offset_steps=-1)).ok


def test_failures_are_throttled_with_growing_delays_and_reset_by_success(acme_member):
    device, _ = enrol(acme_member)
    assert not mfa.verify_second_factor(acme_member, "000000").ok
    # Immediately after a failure even the right code is refused without being checked.
    blocked = mfa.verify_second_factor(acme_member, code_for(device))
    assert blocked.throttled and not blocked.ok
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    delays = []
    for _ in range(3):
        TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=timezone.now() - timedelta(hours=1))
        assert not mfa.verify_second_factor(acme_member, "000000").ok
        result = mfa.verify_second_factor(acme_member, "000000")
        delays.append((result.locked_until - timezone.now()).total_seconds())
    assert delays[0] < delays[1] < delays[2]  # 2 s, 4 s, 8 s
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=timezone.now() - timedelta(hours=1))
    assert mfa.verify_second_factor(acme_member, code_for(device)).ok
    device.refresh_from_db()
    assert device.throttling_failure_count == 0 and device.throttling_failure_timestamp is None


def test_recovery_code_works_once_and_is_stored_hashed(acme_member):
    _, codes = enrol(acme_member)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-z2-7]{4}-[a-z2-7]{4}", c) for c in codes)
    stored = set(StaticToken.objects.filter(device__user=acme_member).values_list("token", flat=True))
    assert not stored & {c.replace("-", "") for c in codes}
    result = mfa.verify_second_factor(acme_member, codes[3].upper().replace("-", " "))
    assert result.ok and result.method == "recovery" and result.recovery_codes_left == 9
    assert not mfa.verify_second_factor(acme_member, codes[3]).ok
    assert mfa.recovery_codes_left(acme_member) == 9


def test_regenerating_recovery_codes_invalidates_the_old_set(acme_member):
    _, old = enrol(acme_member)
    new = mfa.regenerate_recovery_codes(acme_member)
    assert not set(old) & set(new)
    assert not mfa.verify_second_factor(acme_member, old[0]).ok
    StaticDevice.objects.filter(user=acme_member).update(throttling_failure_count=0)  # the failure above
    assert mfa.verify_second_factor(acme_member, new[0]).ok


def test_unconfirmed_device_is_not_a_second_factor(acme_member):
    device = mfa.start_enrolment(acme_member)
    assert not mfa.has_mfa(acme_member)
    assert not mfa.verify_second_factor(acme_member, code_for(device)).ok
    wrong = "123456" if code_for(device) != "123456" else "654321"
    result, codes = mfa.confirm_enrolment(acme_member, device.pk, wrong)
    assert not result.ok and codes == [] and not mfa.has_mfa(acme_member)


def test_enrolment_cannot_replace_a_confirmed_device(acme_member):
    enrol(acme_member)
    with pytest.raises(mfa.EnrolmentError):
        mfa.start_enrolment(acme_member)


def test_confirming_someone_elses_pending_device_is_refused(acme_member, globex_member):
    device = mfa.start_enrolment(acme_member)
    with pytest.raises(mfa.EnrolmentError):
        mfa.confirm_enrolment(globex_member, device.pk, code_for(device))


@pytest.mark.parametrize("junk", ["", "   ", "abc", "1" * 64, "12345", "１２３４５６", "'; DROP TABLE x;--", "\x00"])
def test_malformed_codes_fail_cleanly(acme_member, junk):
    enrol(acme_member)
    assert not mfa.verify_second_factor(acme_member, junk).ok


@override_settings(JETO_IDENTITY={"SITE_NAME": "Acme: ID"})
def test_otpauth_uri_has_issuer_label_and_standard_parameters(acme_member):
    device = mfa.start_enrolment(acme_member)
    uri = mfa.otpauth_uri(device, acme_member)
    parts = urlsplit(uri)
    assert parts.scheme == "otpauth" and parts.netloc == "totp"
    assert unquote(parts.path) == "/Acme ID:max@acme.test"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query == {
        "secret": mfa.base32_secret(device),
        "issuer": "Acme ID",
        "algorithm": "SHA1",
        "digits": "6",
        "period": "30",
    }
    assert len(device.bin_key) == 20 and "=" not in query["secret"]


def test_qr_code_is_inline_svg_encoding_the_uri(acme_member):
    device = mfa.start_enrolment(acme_member)
    svg = mfa.qr_svg(mfa.otpauth_uri(device, acme_member))
    assert svg.startswith("<svg") and "<?xml" not in svg and "http" not in svg.replace("http://www.w3.org", "")
    assert "<path" in svg


def test_qr_code_scans_to_the_otpauth_uri(acme_member):
    device = mfa.start_enrolment(acme_member)
    uri = mfa.otpauth_uri(device, acme_member)
    assert decode_qr_luminance(*rasterize_qr_svg(mfa.qr_svg(uri))) == uri
