"""System checks for brute-force protection (IDs ``jeto_identity.W50x``)."""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security)
def check_brute_force_protection(app_configs, **kwargs) -> list[Warning]:
    """Password, OTP and client-secret guessing is throttled by django-axes; say so when it is missing."""
    backends = list(getattr(settings, "AUTHENTICATION_BACKENDS", []))
    if apps.is_installed("axes") and any(b.startswith("axes.backends.") for b in backends):
        return []
    return [
        Warning(
            "Brute-force protection is off: add 'axes' to INSTALLED_APPS, 'axes.backends.AxesStandaloneBackend' "
            "first in AUTHENTICATION_BACKENDS and 'axes.middleware.AxesMiddleware' to MIDDLEWARE.",
            hint="See the security guide (docs/security.md) for the recommended AXES_* settings.",
            id="jeto_identity.W501",
        )
    ]
