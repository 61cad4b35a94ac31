"""The portal's settings: everything from the environment, clear start-up errors, and a clean system check."""

import os
import subprocess
import sys
from pathlib import Path

from django.core.checks import run_checks

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str, *, without_keys: bool = False, **env) -> subprocess.CompletedProcess:
    drop = {"SECRET_KEY", "DEBUG", "DATABASE_URL", "REDIS_URL"}
    clean = {k: v for k, v in os.environ.items() if k not in drop and not (without_keys and k.startswith("OIDC_"))}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _import_settings(**env) -> subprocess.CompletedProcess:
    code = "import config.settings as s; print(s.DATABASES['default']['ENGINE'], s.DEBUG)"
    return _run(code, **env)


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
    assert result.stdout.split()[0] == "jeto_identity.contrib.fastpaths.postgresql"  # Django's, with the fast paths


def test_production_without_a_signing_key_refuses_to_start():
    setup = "import django; django.setup()"
    result = _run(setup, without_keys=True, SECRET_KEY="x" * 60, DJANGO_SETTINGS_MODULE="config.settings")
    assert result.returncode != 0
    assert "No OIDC signing key" in result.stderr


def test_system_checks_pass_for_the_portal():
    assert not [m for m in run_checks() if m.id and m.id.startswith("jeto_identity.")]
