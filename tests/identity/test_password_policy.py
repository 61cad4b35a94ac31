import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from jeto_identity.models import User


@pytest.mark.django_db
@pytest.mark.parametrize(
    "password",
    [
        "elevenchars",  # 11 characters: below the 12 minimum
        "password1234",  # on the common-password blocklist
        "x" * 257,  # over the maximum
    ],
)
def test_rejected_passwords(password):
    with pytest.raises(ValidationError):
        validate_password(password, User(email="someone@acme.test"))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "password",
    [
        "twelve chars",  # exactly 12, spaces allowed
        "all lower case letters no digits",  # no composition rules
        "ü" * 64,  # 64 unicode characters are allowed
        "a" * 10 + "🦄 correct horse battery staple" * 4,
    ],
)
def test_accepted_passwords(password):
    validate_password(password, User(email="someone@acme.test"))


@pytest.mark.django_db
def test_minimum_length_is_configurable(settings):
    settings.AUTH_PASSWORD_VALIDATORS = [
        {
            "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
            "OPTIONS": {"min_length": 16},
        }
    ]
    with pytest.raises(ValidationError):
        validate_password("fifteen chars!!")


@pytest.mark.django_db
def test_long_passwords_are_not_truncated(make_user):
    base = "p" * 100
    user = make_user("long@acme.test", password=base + "A")
    assert user.check_password(base + "A")
    assert not user.check_password(base + "B")
    assert not user.check_password(base)
