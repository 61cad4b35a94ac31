"""benchmarks/login_steps.py drives a real sign-in through the WSGI application and accounts for each step."""

from __future__ import annotations

import pytest
from django.core.handlers.wsgi import WSGIHandler

from benchmarks.login import DOMAIN, PASSWORD
from benchmarks.login_steps import Steps
from jeto_identity.models import AuditEvent, User

pytestmark = pytest.mark.django_db(transaction=True)


def test_steps_sign_in_through_the_three_requests_and_time_each(settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    User.objects.create_user(email=f"pw00000@{DOMAIN}", password=PASSWORD)
    steps = Steps(WSGIHandler())
    steps.sign_in(f"pw00000@{DOMAIN}")
    assert all(cpu > 0 for cpu in steps.cpu.values()), steps.cpu
    assert AuditEvent.objects.filter(event="sign_in.success", subject=f"pw00000@{DOMAIN}").count() == 1


def test_a_wrong_password_is_not_counted_as_a_sign_in(settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    User.objects.create_user(email=f"pw00001@{DOMAIN}", password="another passphrase entirely")
    with pytest.raises(AssertionError, match="pw00001.*400"):
        Steps(WSGIHandler()).sign_in(f"pw00001@{DOMAIN}")
