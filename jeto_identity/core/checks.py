"""System checks for what every feature needs from the host project (IDs ``jeto_identity.E0xx`` / ``W0xx``).

An ID is never reused with a new meaning (a host that silenced the old one would silence a different check): the
IDs of checks that moved to a feature's range (E004-E006, E010-E012, E102, W001, W010, W020) stay retired.

Checks that look for a middleware, backend or hasher by dotted path go through ``find_entry``: it resolves each
configured entry and compares classes, so an old dotted path (``jeto_identity.core.deprecated_paths``) or a subclass
counts as the entry it names.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from django.utils.module_loading import import_string

SESSION_MW = "django.contrib.sessions.middleware.SessionMiddleware"
AUTH_MW = "django.contrib.auth.middleware.AuthenticationMiddleware"
AUDIT_MW = "jeto_identity.core.middleware.AuditContextMiddleware"
OUTAGE_MW = "jeto_identity.core.middleware.ServiceUnavailableMiddleware"
MIN_LENGTH_VALIDATOR = "jeto_identity.core.password_validation.MinimumLengthValidator"
MAX_LENGTH_VALIDATOR = "jeto_identity.core.password_validation.MaximumLengthValidator"
ADMIN_LOGIN_VIEW = "jeto_identity.login.views.admin_login"  # named, not imported: core imports no feature
LINK_CONFIRMATION_STAGE = "jeto_identity.sso.services.link_confirmation_stage"
MFA_STAGE = "jeto_identity.mfa.stage.login_stage"


def resolved(value: Any) -> Any:
    """A setting entry that is a dotted path or the object itself; None when it names nothing importable."""
    if not isinstance(value, str):
        return value
    try:
        return import_string(value)
    except Exception:  # noqa: BLE001 - a broken entry is reported by the check that needs it, not here
        return None


def matches(value: Any, target: str, *, subclass: bool = True) -> bool:
    """Does the entry name ``target``: the same object (by any dotted path), or a subclass of a class target?"""
    if value == target:
        return True
    found, wanted = resolved(value), resolved(target)
    if found is None or wanted is None:
        return False
    if found is wanted:
        return True
    return subclass and isinstance(found, type) and isinstance(wanted, type) and issubclass(found, wanted)


def find_entry(entries: Iterable[Any], target: str, *, subclass: bool = True) -> int | None:
    """Position of the first entry of ``entries`` (MIDDLEWARE, AUTHENTICATION_BACKENDS...) that is ``target``."""
    for position, value in enumerate(entries):
        if matches(value, target, subclass=subclass):
            return position
    return None


def comes_before(entries: Sequence[Any], first: str, then: str) -> bool:
    """Both are listed and ``first`` comes before ``then``."""
    a, b = find_entry(entries, first), find_entry(entries, then)
    return a is not None and b is not None and a < b


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
    if not comes_before(middleware, SESSION_MW, AUTH_MW):
        errors.append(Error("SessionMiddleware must come before AuthenticationMiddleware.", id="jeto_identity.E003"))
    if find_entry(middleware, AUDIT_MW) is None:
        errors.append(
            Error(
                "AuditContextMiddleware is not in MIDDLEWARE: audit events would not record who acted or from "
                "which address.",
                hint=f"Add '{AUDIT_MW}' after AuthenticationMiddleware.",
                id="jeto_identity.E013",
            )
        )
    if find_entry(middleware, OUTAGE_MW) is None:
        errors.append(
            Error(
                "ServiceUnavailableMiddleware is not in MIDDLEWARE: a database or cache outage would answer 500 "
                "with Django's error page instead of a 503 'try again shortly'.",
                hint=f"Add '{OUTAGE_MW}' right after SecurityMiddleware.",
                id="jeto_identity.E014",
            )
        )
    return errors


@register(Tags.security)
def check_password_policy(app_configs, **kwargs) -> list[CheckMessage]:
    """``PASSWORD_MIN_LENGTH`` / ``PASSWORD_MAX_LENGTH`` take effect through AUTH_PASSWORD_VALIDATORS."""
    from django.contrib.auth.password_validation import get_default_password_validators

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
                id="jeto_identity.E015",
            )
        )
    if not any(isinstance(v, import_string(MAX_LENGTH_VALIDATOR)) for v in validators):
        messages.append(
            Warning(
                "JETO_IDENTITY['PASSWORD_MAX_LENGTH'] has no effect: no maximum-length password validator.",
                hint=f"List '{MAX_LENGTH_VALIDATOR}' in AUTH_PASSWORD_VALIDATORS.",
                id="jeto_identity.W011",
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


@register(Tags.security)
def check_login_stages(app_configs, **kwargs) -> list[Error]:
    """An SSO link is confirmed (and created) only after the second factor: the MFA stage comes first."""
    from jeto_identity.conf import jeto_settings

    stages = list(jeto_settings.LOGIN_STAGES or [])
    link = find_entry(stages, LINK_CONFIRMATION_STAGE, subclass=False)
    if link is None:
        return []
    mfa = find_entry(stages, MFA_STAGE, subclass=False)
    if mfa is not None and mfa < link:
        return []
    where = "is missing" if mfa is None else "comes after it"
    return [
        Error(
            f"JETO_IDENTITY['LOGIN_STAGES'] lists the SSO link-confirmation stage but the MFA stage {where}: an SSO "
            "link would be created before the second factor is asked.",
            hint=f"List '{MFA_STAGE}' before '{LINK_CONFIRMATION_STAGE}'.",
            id="jeto_identity.E016",
        )
    ]
