"""``JETO_IDENTITY["PASSWORD_MIN_LENGTH"]`` / ``["PASSWORD_MAX_LENGTH"]`` do what the docs say, through the app's
validators in AUTH_PASSWORD_VALIDATORS."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import password_validators_help_texts, validate_password
from django.core.exceptions import ValidationError

VALIDATORS = [
    {"NAME": "jeto_identity.core.password_validation.MinimumLengthValidator"},
    {"NAME": "jeto_identity.core.password_validation.MaximumLengthValidator"},
]


@pytest.fixture
def jeto_validators(settings):
    settings.AUTH_PASSWORD_VALIDATORS = VALIDATORS
    return settings


def test_minimum_length_follows_the_setting(jeto_validators):
    validate_password("x" * 12)
    with pytest.raises(ValidationError, match="at least 12"):
        validate_password("x" * 11)
    jeto_validators.JETO_IDENTITY = {**jeto_validators.JETO_IDENTITY, "PASSWORD_MIN_LENGTH": 16}
    with pytest.raises(ValidationError, match="at least 16"):
        validate_password("x" * 15)
    assert any("at least 16" in text for text in password_validators_help_texts())


def test_maximum_length_follows_the_setting_but_64_always_fit(jeto_validators):
    jeto_validators.JETO_IDENTITY = {**jeto_validators.JETO_IDENTITY, "PASSWORD_MAX_LENGTH": 80}
    validate_password("x" * 80)
    with pytest.raises(ValidationError, match="at most 80"):
        validate_password("x" * 81)
    jeto_validators.JETO_IDENTITY = {**jeto_validators.JETO_IDENTITY, "PASSWORD_MAX_LENGTH": 20}
    validate_password("x" * 64)


def test_options_win_over_the_setting(settings):
    settings.AUTH_PASSWORD_VALIDATORS = [{**VALIDATORS[0], "OPTIONS": {"min_length": 20}}]
    with pytest.raises(ValidationError, match="at least 20"):
        validate_password("x" * 19)
