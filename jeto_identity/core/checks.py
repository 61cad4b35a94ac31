"""System checks for what every feature needs from the host project (IDs ``jeto_identity.E00x`` / ``W00x``)."""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.urls import NoReverseMatch, Resolver404, resolve, reverse

SESSION_MW = "django.contrib.sessions.middleware.SessionMiddleware"
AUTH_MW = "django.contrib.auth.middleware.AuthenticationMiddleware"
AUDIT_MW = "jeto_identity.core.middleware.AuditContextMiddleware"
OUTAGE_MW = "jeto_identity.core.middleware.ServiceUnavailableMiddleware"
MIN_LENGTH_VALIDATOR = "jeto_identity.core.password_validation.MinimumLengthValidator"
MAX_LENGTH_VALIDATOR = "jeto_identity.core.password_validation.MaximumLengthValidator"
ADMIN_LOGIN_VIEW = "jeto_identity.login.views.admin_login"  # named, not imported: core imports no feature


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
    if AUDIT_MW not in middleware:
        errors.append(
            Error(
                "AuditContextMiddleware is not in MIDDLEWARE: audit events would not record who acted or from "
                "which address.",
                hint=f"Add '{AUDIT_MW}' after AuthenticationMiddleware.",
                id="jeto_identity.E004",
            )
        )
    if OUTAGE_MW not in middleware:
        errors.append(
            Error(
                "ServiceUnavailableMiddleware is not in MIDDLEWARE: a database or cache outage would answer 500 "
                "with Django's error page instead of a 503 'try again shortly'.",
                hint=f"Add '{OUTAGE_MW}' right after SecurityMiddleware.",
                id="jeto_identity.E005",
            )
        )
    return errors


@register(Tags.security)
def check_password_policy(app_configs, **kwargs) -> list[CheckMessage]:
    """``PASSWORD_MIN_LENGTH`` / ``PASSWORD_MAX_LENGTH`` take effect through AUTH_PASSWORD_VALIDATORS."""
    from django.contrib.auth.password_validation import get_default_password_validators
    from django.utils.module_loading import import_string

    from jeto_identity.conf import jeto_settings

    validators = get_default_password_validators()
    enforced = max((v.min_length for v in validators if isinstance(getattr(v, "min_length", None), int)), default=0)
    messages: list[CheckMessage] = []
    if enforced < jeto_settings.PASSWORD_MIN_LENGTH:
        messages.append(
            Error(
                f"AUTH_PASSWORD_VALIDATORS accept {enforced or 'any'}-character passwords, below "
                f"JETO_IDENTITY['PASSWORD_MIN_LENGTH'] ({jeto_settings.PASSWORD_MIN_LENGTH}).",
                hint=f"List '{MIN_LENGTH_VALIDATOR}' in AUTH_PASSWORD_VALIDATORS (instead of Django's).",
                id="jeto_identity.E006",
            )
        )
    if not any(isinstance(v, import_string(MAX_LENGTH_VALIDATOR)) for v in validators):
        messages.append(
            Warning(
                "JETO_IDENTITY['PASSWORD_MAX_LENGTH'] has no effect: no maximum-length password validator.",
                hint=f"List '{MAX_LENGTH_VALIDATOR}' in AUTH_PASSWORD_VALIDATORS.",
                id="jeto_identity.W001",
            )
        )
    return messages


@register(Tags.urls, Tags.security)
def check_admin_login(app_configs, **kwargs) -> list[Error]:
    """Django admin's own login form would skip the sign-in pipeline (SSO enforcement, second factor)."""
    if not apps.is_installed("django.contrib.admin"):
        return []
    try:
        view = resolve(reverse("admin:login")).func
    except (NoReverseMatch, Resolver404):
        return []  # the admin is not mounted
    if f"{view.__module__}.{view.__qualname__}" == ADMIN_LOGIN_VIEW:
        return []
    return [
        Error(
            "Django admin's sign-in page is its own form, outside Jeto's sign-in pipeline: staff could sign in "
            "with a password where their organisation enforces SSO, and before their second factor is asked.",
            hint=f'Mount Jeto\'s before the admin: path("admin/login/", admin_login) with {ADMIN_LOGIN_VIEW}.',
            id="jeto_identity.E007",
        )
    ]


@register(Tags.compatibility)
def check_hooks(app_configs, **kwargs) -> list[Error]:
    """The dotted paths a host gives in ``JETO_IDENTITY`` import, and the adapter is a ``DefaultAdapter``."""
    from django.core.exceptions import ImproperlyConfigured

    from jeto_identity.adapter import DefaultAdapter
    from jeto_identity.conf import jeto_settings

    errors: list[Error] = []
    for name in ("ADAPTER", "LOGIN_STAGES", "EMAIL_ROUTERS"):
        try:
            value = jeto_settings.imported(name)
        except ImproperlyConfigured as exc:
            errors.append(Error(str(exc), id="jeto_identity.E008"))
            continue
        if name == "ADAPTER" and not (isinstance(value, type) and issubclass(value, DefaultAdapter)):
            errors.append(
                Error(
                    "JETO_IDENTITY['ADAPTER'] must name a subclass of jeto_identity.adapter.DefaultAdapter.",
                    id="jeto_identity.E009",
                )
            )
    return errors
