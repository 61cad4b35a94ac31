"""Security headers and cookies, and `manage.py check --deploy` clean under production settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from tests.conftest import sign_in

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "SECRET_KEY": "pr0d-like-Secret-key-for-the-deploy-check-only-9f8e7d6c5b4a3921-x",
    "DEBUG": "false",
    "ALLOWED_HOSTS": "id.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://id.example.com",
    "DATABASE_URL": "postgres://jeto@127.0.0.1:5432/jeto_prod_check",
    "REDIS_URL": "redis://127.0.0.1:6379/15",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "TRUST_X_FORWARDED_PROTO": "true",
    "TRUSTED_PROXIES": "10.0.0.0/8",
    "JETO_ISSUER": "https://id.example.com",
    "JETO_FIELD_ENCRYPTION_KEYS": "field-key-for-the-deploy-check-0123456789abcdef",
    "JETO_TOTP_ENCRYPTION_KEYS": "totp-key-for-the-deploy-check-0123456789abcdef",
    # https-only redirect URIs (RFC 9700 2.1); a deployment serving native apps keeps http for loopback.
    "OIDC_REDIRECT_URI_SCHEMES": "https",
    "CLIENT_SECRET_PEPPER": "pepper-for-the-deploy-check-0123456789abcdef",
    "JETO_WEBAUTHN_RP_ID": "example.com",
    "JETO_WEBAUTHN_ORIGINS": "https://id.example.com",
}


def test_check_deploy_passes_with_production_settings(tmp_path):
    # A clean environment: nothing inherited from the test settings or the browser tests.
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "SYSTEMROOT") if k in os.environ}
    env.update(
        PRODUCTION_ENV,
        DJANGO_SETTINGS_MODULE="config.settings",
        OIDC_KEY_DIR=str(tmp_path / "oidc-keys"),  # production mounts a key; here one is generated once
        OIDC_GENERATE_KEY="true",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output  # not even a warning, from Django, django-axes, DOT or Jeto
    assert "System check identified no issues" in output, output


@pytest.mark.django_db
def test_login_page_has_csp_and_denies_framing(client):
    response = client.get("/login/")
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "form-action" not in csp  # would block the redirects to relying parties and IdPs after a POST
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_hsts_on_https(settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = Client().get("/login/", secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


@pytest.mark.django_db
def test_session_and_csrf_cookies_are_secure_httponly_lax(settings, acme_member, password):
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    client = Client()
    client.get("/login/", secure=True)
    response = sign_in(client, acme_member.email, password)
    session = client.cookies["sessionid"]
    csrf = client.cookies["csrftoken"]
    for cookie in (session, csrf):
        assert cookie["secure"] and cookie["httponly"]
        # Lax, not Strict: the browser must send the session on the top-level GET back from an IdP (SSO)
        # and on a relying party's redirect to /o/authorize/ (OIDC); cross-site POSTs stay cookie-less.
        assert cookie["samesite"] == "Lax"
    assert response.status_code == 302


@pytest.mark.django_db
def test_lockout_and_error_pages_carry_the_same_headers(settings, acme_member):
    settings.AXES_FAILURE_LIMIT = 1
    response = sign_in(Client(), acme_member.email, "wrong-wrong-wrong")
    assert response.status_code == 429
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
