"""When the authorization endpoint shows the consent page."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from oauth2_provider.models import get_access_token_model


def remembered(user: Any, application: Any, scopes: list[str]) -> bool:
    """Consent is remembered while the client holds a live access token for the user covering the same scopes."""
    tokens = get_access_token_model().objects.filter(user=user, application=application, expires__gt=timezone.now())
    return any(token.allow_scopes(scopes) for token in tokens)


def required(user: Any, application: Any, scopes: list[str], prompt: set[str]) -> bool:
    """Trusted (first-party) clients skip consent; others ask once; ``prompt=consent`` always asks."""
    if "consent" in prompt:
        return True
    return not (application.skip_authorization or remembered(user, application, scopes))
