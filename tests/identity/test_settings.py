import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured

from jeto_identity.conf import jeto_settings

ROOT = Path(__file__).resolve().parents[2]


def _import_settings(**env):
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DATABASE_URL", "REDIS_URL"}}
    return subprocess.run(
        [sys.executable, "-c", "import config.settings as s; print(s.DATABASES['default']['ENGINE'], s.DEBUG)"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_missing_secret_key_outside_debug_is_a_clear_startup_error():
    result = _import_settings()
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_defaults_are_sqlite_and_debug_off():
    result = _import_settings(SECRET_KEY="x" * 50)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "False"]


def test_database_url_switches_to_postgres():
    result = _import_settings(SECRET_KEY="x" * 50, DATABASE_URL="postgres://u@127.0.0.1:5432/db")
    assert result.stdout.split()[0] == "django.db.backends.postgresql"  # Django's own backend


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


def test_system_checks_pass_for_the_portal():
    assert not [m for m in run_checks() if m.id and m.id.startswith("jeto_identity.")]
