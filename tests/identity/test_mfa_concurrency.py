"""A code is accepted once even when two requests carry it at the same moment (row lock on PostgreSQL).

SQLite has no row locks, so these run on PostgreSQL; in CI (``CI`` set) a non-PostgreSQL database is a failure,
not a skip.
"""

from __future__ import annotations

import threading
import time
from unittest import mock

import pytest
from django.db import connections
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from jeto_identity.mfa import services as mfa
from jeto_identity.models import User
from tests.requirements import require_postgresql

from .mfa_support import code_for, enrol

THREADS = 6


@pytest.fixture
def postgres_only():
    require_postgresql("the concurrent replay tests need PostgreSQL's row locks")


def _race(user_pk, code: str) -> list[bool]:
    """Submit ``code`` from THREADS threads released together; each verifies in its own connection."""
    barrier = threading.Barrier(THREADS)
    results: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            user = User.objects.get(pk=user_pk)
            barrier.wait(timeout=10)
            ok = mfa.verify_second_factor(user, code).ok
            with lock:
                results.append(ok)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(results) == THREADS, "a worker hung or crashed"
    return results


def _slow(original):
    """Widen the race: every verifier pauses between reading the device and writing it back."""

    def verify(self, token):
        time.sleep(0.05)
        return original(self, token)

    return verify


@pytest.mark.django_db(transaction=True)
def test_same_totp_code_concurrently_is_accepted_once(postgres_only, acme_member):
    device, _ = enrol(acme_member)
    with mock.patch.object(TOTPDevice, "verify_token", _slow(TOTPDevice.verify_token)):
        results = _race(acme_member.pk, code_for(device))
    assert results.count(True) == 1, results


@pytest.mark.django_db(transaction=True)
def test_same_recovery_code_concurrently_is_accepted_once(postgres_only, acme_member):
    _, codes = enrol(acme_member)
    with mock.patch.object(StaticDevice, "verify_token", _slow(StaticDevice.verify_token)):
        results = _race(acme_member.pk, codes[0])
    assert results.count(True) == 1, results
    assert mfa.recovery_codes_left(acme_member) == 9
