"""prompt and max_age decisions (OIDC Core 3.1.2.1), without HTTP; and the provider's system checks."""

import pytest
from django.test import override_settings

from jeto_identity.provider.checks import check_openid_provider
from jeto_identity.provider.prompt import Decision, decide, parse_prompt, session_too_old

NOW = 1_800_000_000


@pytest.mark.parametrize(
    ("prompt", "max_age", "auth_time", "expected"),
    [
        ("", None, NOW - 10_000, Decision.CONTINUE),
        ("login", None, NOW, Decision.REAUTHENTICATE),
        ("none", None, NOW - 10_000, Decision.CONTINUE),
        ("none", "60", NOW - 61, Decision.LOGIN_REQUIRED),
        ("none", "60", NOW - 60, Decision.CONTINUE),
        ("", "60", NOW - 61, Decision.REAUTHENTICATE),
        ("", "0", NOW - 1, Decision.REAUTHENTICATE),
        ("", "60", None, Decision.REAUTHENTICATE),  # unknown authentication time: be strict
        ("consent", None, NOW, Decision.CONTINUE),
        ("login consent", None, NOW, Decision.REAUTHENTICATE),
    ],
)
def test_decide(prompt, max_age, auth_time, expected):
    assert decide(parse_prompt(prompt), max_age, auth_time, now=NOW) is expected


def test_invalid_max_age_is_left_to_the_parameter_check():
    assert session_too_old(NOW, "abc", now=NOW) is False
    assert session_too_old(NOW, "", now=NOW) is False


def test_system_checks_flag_issuer_problems(settings):
    assert check_openid_provider(None) == []
    provider = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": "https://id.example.com/sub"}
    with override_settings(
        JETO_IDENTITY={**settings.JETO_IDENTITY, "ISSUER": "https://id.example.com/sub"}, OAUTH2_PROVIDER=provider
    ):
        assert {p.id for p in check_openid_provider(None)} == {"jeto_identity.E303"}
    with override_settings(JETO_IDENTITY={**settings.JETO_IDENTITY, "ISSUER": "https://id.example.com"}):
        assert "jeto_identity.E302" in {p.id for p in check_openid_provider(None)}
    with override_settings(OAUTH2_PROVIDER={**settings.OAUTH2_PROVIDER, "OIDC_RSA_PRIVATE_KEY": ""}):
        assert "jeto_identity.E301" in {p.id for p in check_openid_provider(None)}
