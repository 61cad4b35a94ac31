"""Password rules beyond Django's built-ins (NIST SP 800-63B: long passwords allowed, none truncated)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from jeto_identity.conf import jeto_settings


class MaximumLengthValidator:
    """Refuse absurdly long input (hashing cost) while always allowing at least 64 characters."""

    def __init__(self, max_length: int | None = None) -> None:
        self.max_length = max(max_length or jeto_settings.PASSWORD_MAX_LENGTH, 64)

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
