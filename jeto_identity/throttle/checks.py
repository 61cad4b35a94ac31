"""System checks for brute-force protection on django-axes (IDs ``jeto_identity.E50x`` / ``W50x``).

Without axes at all, protection is off: a warning (W501), so a host can choose that knowingly. With axes
installed, every piece Jeto's throttling relies on must be in place, or guessing is silently unthrottled:
those are errors. Any ``AXES_HANDLER`` works; the cache handler (Redis) is the one for several web nodes.
"""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from jeto_identity.core.checks import find_entry, resolved

AXES_BACKEND = "axes.backends.AxesStandaloneBackend"
AXES_MIDDLEWARE = "axes.middleware.AxesMiddleware"
USERNAME_CALLABLE = "jeto_identity.throttle.services.axes_username"
CLIENT_IP_CALLABLE = "jeto_identity.core.net.client_ip"


@register(Tags.security)
def check_brute_force_protection(app_configs, **kwargs) -> list[CheckMessage]:
    """Password, OTP and client-secret guessing is throttled by django-axes."""
    if not apps.is_installed("axes"):
        return [
            Warning(
                "Brute-force protection is off: django-axes is not in INSTALLED_APPS.",
                hint="Add 'axes' (last) to INSTALLED_APPS with the backend, middleware and AXES_* settings of "
                "docs/integrators.md, or silence jeto_identity.W501 to run without it knowingly.",
                id="jeto_identity.W501",
            )
        ]
    messages: list[CheckMessage] = []
    backends = list(getattr(settings, "AUTHENTICATION_BACKENDS", []))
    if find_entry(backends, AXES_BACKEND) is None:
        messages.append(
            Error(
                "django-axes is installed but its backend is not in AUTHENTICATION_BACKENDS: passwords are "
                "not throttled and a locked-out caller can still sign in.",
                hint=f"Put '{AXES_BACKEND}' first in AUTHENTICATION_BACKENDS.",
                id="jeto_identity.E501",
            )
        )
    if find_entry(getattr(settings, "MIDDLEWARE", []), AXES_MIDDLEWARE) is None:
        messages.append(
            Error(
                "django-axes is installed but AxesMiddleware is not in MIDDLEWARE: lockouts surface as errors "
                "instead of the lockout page.",
                hint=f"Add '{AXES_MIDDLEWARE}' last in MIDDLEWARE.",
                id="jeto_identity.E502",
            )
        )
    if resolved(getattr(settings, "AXES_USERNAME_CALLABLE", None)) is not resolved(USERNAME_CALLABLE):
        messages.append(
            Error(
                "AXES_USERNAME_CALLABLE is not Jeto's: sign-in forms post 'email', so axes would count failures "
                "against no account (or against each spelling of an email separately).",
                hint=f"Set AXES_USERNAME_CALLABLE = '{USERNAME_CALLABLE}'.",
                id="jeto_identity.E503",
            )
        )
    parameters = getattr(settings, "AXES_LOCKOUT_PARAMETERS", None) or []
    if "username" not in parameters or "ip_address" not in parameters:
        messages.append(
            Error(
                "AXES_LOCKOUT_PARAMETERS must count failures per account and per address, separately.",
                hint='Set AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"].',
                id="jeto_identity.E504",
            )
        )
    if resolved(getattr(settings, "AXES_CLIENT_IP_CALLABLE", None)) is not resolved(CLIENT_IP_CALLABLE):
        messages.append(
            Warning(
                "AXES_CLIENT_IP_CALLABLE is not Jeto's: throttling reads client addresses without "
                "JETO_IDENTITY['TRUSTED_PROXIES'] (audit events and lockouts may disagree on the address).",
                hint=f"Set AXES_CLIENT_IP_CALLABLE = '{CLIENT_IP_CALLABLE}'.",
                id="jeto_identity.W502",
            )
        )
    return messages
