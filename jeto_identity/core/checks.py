"""System checks for what every feature needs from the host project (IDs ``jeto_identity.E00x``)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register

SESSION_MW = "django.contrib.sessions.middleware.SessionMiddleware"
AUTH_MW = "django.contrib.auth.middleware.AuthenticationMiddleware"


@register(Tags.security, Tags.compatibility)
def check_installation(app_configs, **kwargs) -> list[Error]:
    errors: list[Error] = []
    if settings.AUTH_USER_MODEL != "jeto_identity.User":
        errors.append(Error("Jeto Identity needs AUTH_USER_MODEL = 'jeto_identity.User'.", id="jeto_identity.E001"))
    if getattr(settings, "OAUTH2_PROVIDER_APPLICATION_MODEL", "") != "jeto_identity.OAuthClient":
        errors.append(
            Error(
                "Jeto Identity needs OAUTH2_PROVIDER_APPLICATION_MODEL = 'jeto_identity.OAuthClient'.",
                id="jeto_identity.E002",
            )
        )
    middleware = list(getattr(settings, "MIDDLEWARE", []))
    if SESSION_MW not in middleware or AUTH_MW not in middleware or middleware.index(SESSION_MW) > middleware.index(
        AUTH_MW
    ):
        errors.append(Error("SessionMiddleware must come before AuthenticationMiddleware.", id="jeto_identity.E003"))
    return errors
