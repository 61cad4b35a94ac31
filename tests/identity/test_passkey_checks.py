"""System checks for passkeys and the session registry (E210-E214, W210)."""

from __future__ import annotations

import pytest
from django.test import override_settings

from jeto_identity.mfa.webauthn import checks

SESSIONS_MW = "jeto_identity.core.sessions.SessionRegistryMiddleware"


def ids(messages) -> set[str]:
    return {m.id for m in messages}


def test_the_portal_settings_pass():
    assert checks.check_session_registry(None) == [] and checks.check_webauthn_settings(None) == []


def test_a_missing_or_misplaced_session_registry_middleware(settings):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != SESSIONS_MW]
    assert ids(checks.check_session_registry(None)) == {"jeto_identity.E210"}
    settings.MIDDLEWARE = [SESSIONS_MW, *settings.MIDDLEWARE]  # before AuthenticationMiddleware
    assert ids(checks.check_session_registry(None)) == {"jeto_identity.E211"}


@pytest.mark.parametrize(
    "values, expected",
    [
        ({"WEBAUTHN_RP_ID": "https://example.com"}, {"jeto_identity.E212"}),
        ({"WEBAUTHN_RP_ID": "Example.com"}, {"jeto_identity.E212"}),
        ({"WEBAUTHN_ORIGINS": ["http://id.example.com"]}, {"jeto_identity.E213"}),
        ({"WEBAUTHN_ORIGINS": ["https://id.example.com/login"]}, {"jeto_identity.E213"}),
        ({"WEBAUTHN_RP_ID": "example.com", "WEBAUTHN_ORIGINS": ["https://evil.test"]}, {"jeto_identity.E214"}),
        ({"WEBAUTHN_RP_ID": "example.com", "WEBAUTHN_ORIGINS": ["https://id.example.com"]}, set()),
        ({"WEBAUTHN_ORIGINS": ["http://localhost:8000"]}, set()),
    ],
)
def test_webauthn_settings(values, expected):
    with override_settings(JETO_IDENTITY=values):
        assert ids(checks.check_webauthn_settings(None)) == expected


def test_deploy_warns_without_an_rp_id():
    with override_settings(JETO_IDENTITY={}):
        assert ids(checks.check_webauthn_deploy(None)) == {"jeto_identity.W210"}
    with override_settings(JETO_IDENTITY={"WEBAUTHN_RP_ID": "example.com"}):
        assert checks.check_webauthn_deploy(None) == []
