"""JETO_IDENTITY is checked: unknown keys fail, system checks catch a wrong setup (the portal's: tests/portal)."""

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured

from jeto_identity.conf import jeto_settings


def test_unknown_jeto_identity_setting_is_rejected(settings):
    settings.JETO_IDENTITY = {"ISSUER": "", "NOT_A_SETTING": 1}
    with pytest.raises(ImproperlyConfigured, match="NOT_A_SETTING"):
        _ = jeto_settings.SITE_NAME


def test_system_checks_flag_wrong_user_model_and_middleware_order(settings):
    settings.MIDDLEWARE = [
        "django_otp.middleware.OTPMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
    ]
    ids = {message.id for message in run_checks()}
    assert {"jeto_identity.E003", "jeto_identity.E201"} <= ids
