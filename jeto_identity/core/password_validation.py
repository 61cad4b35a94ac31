"""Password length rules from ``JETO_IDENTITY`` (NIST SP 800-63B: long passwords allowed, none truncated).

List both in ``AUTH_PASSWORD_VALIDATORS`` (with Django's similarity and common-password validators); the
system check ``jeto_identity.E015`` reports a host whose validators allow shorter passwords than
``PASSWORD_MIN_LENGTH``. An ``OPTIONS`` value given to a validator wins over the ``JETO_IDENTITY`` setting.
"""

from __future__ import annotations

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from jeto_identity.conf import jeto_settings

ALWAYS_ALLOWED_LENGTH = 64  # NIST: verifiers SHOULD permit at least 64 characters


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's minimum-length rule at ``JETO_IDENTITY["PASSWORD_MIN_LENGTH"]`` (read on every check)."""

    def __init__(self, min_length: int | None = None) -> None:
        self._min_length = min_length

    @property
    def min_length(self) -> int:  # type: ignore[override]
        return self._min_length or jeto_settings.PASSWORD_MIN_LENGTH


class MaximumLengthValidator:
    """Refuse absurdly long input (hashing cost) at ``JETO_IDENTITY["PASSWORD_MAX_LENGTH"]``; 64 always allowed."""

    def __init__(self, max_length: int | None = None) -> None:
        self._max_length = max_length

    @property
    def max_length(self) -> int:
        return max(self._max_length or jeto_settings.PASSWORD_MAX_LENGTH, ALWAYS_ALLOWED_LENGTH)

    def validate(self, password: str, user: object = None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                _("This password is too long. It may have at most %(max)d characters."),
                code="password_too_long",
                params={"max": self.max_length},
            )

    def get_help_text(self) -> str:
        return _("Your password may have up to %(max)d characters; spaces and any symbols are fine.") % {
            "max": self.max_length
        }
