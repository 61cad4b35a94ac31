"""System checks for common misconfiguration of a host project."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.apps import apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register


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
    session = "django.contrib.sessions.middleware.SessionMiddleware"
    auth = "django.contrib.auth.middleware.AuthenticationMiddleware"
    otp = "django_otp.middleware.OTPMiddleware"
    if session not in middleware or auth not in middleware or middleware.index(session) > middleware.index(auth):
        errors.append(Error("SessionMiddleware must come before AuthenticationMiddleware.", id="jeto_identity.E003"))
    if otp in middleware and auth in middleware and middleware.index(otp) < middleware.index(auth):
        errors.append(
            Error("django_otp's OTPMiddleware must come after AuthenticationMiddleware.", id="jeto_identity.E004")
        )
    mfa_mw = "jeto_identity.mfa.middleware.MFAPolicyMiddleware"
    messages_mw = "django.contrib.messages.middleware.MessageMiddleware"
    if mfa_mw not in middleware:
        errors.append(
            Error(
                "Add jeto_identity.mfa.middleware.MFAPolicyMiddleware to MIDDLEWARE (after OTPMiddleware and "
                "MessageMiddleware): it enforces organisation MFA policy and the admin MFA requirement.",
                id="jeto_identity.E005",
            )
        )
    elif any(m not in middleware or middleware.index(m) > middleware.index(mfa_mw) for m in (otp, messages_mw)):
        errors.append(
            Error(
                "MFAPolicyMiddleware must come after django_otp's OTPMiddleware and MessageMiddleware.",
                id="jeto_identity.E006",
            )
        )
    errors.extend(check_openid_provider())
    return errors


def check_openid_provider() -> list[Error | Warning]:
    """The OpenID Provider needs a signing key and one issuer that both DOT and Jeto agree on."""
    from oauth2_provider.settings import oauth2_settings

    from jeto_identity.conf import jeto_settings

    problems: list[Error | Warning] = []
    if not oauth2_settings.OIDC_ENABLED:
        return problems  # a host project that doesn't act as an OpenID Provider
    if not oauth2_settings.OIDC_RSA_PRIVATE_KEY:
        problems.append(
            Error(
                "No OIDC signing key: set OAUTH2_PROVIDER['OIDC_RSA_PRIVATE_KEY'] (see docs/key-rotation.md).",
                id="jeto_identity.E010",
            )
        )
    issuer = jeto_settings.ISSUER
    if issuer != (oauth2_settings.OIDC_ISS_ENDPOINT or ""):
        problems.append(
            Error(
                "JETO_IDENTITY['ISSUER'] and OAUTH2_PROVIDER['OIDC_ISS_ENDPOINT'] differ; set both from one value.",
                id="jeto_identity.E011",
            )
        )
    if issuer and (issuer.endswith("/") or not issuer.startswith(("https://", "http://localhost", "http://127."))):
        problems.append(
            Warning("The OIDC issuer should be an https:// URL without a trailing slash.", id="jeto_identity.W010")
        )
    if issuer and urlsplit(issuer).path not in ("", "/"):
        problems.append(
            Error(
                "The OIDC issuer must be the site's root URL (no path): discovery is served at "
                "/.well-known/openid-configuration.",
                id="jeto_identity.E012",
            )
        )
    return problems


SSO_BACKEND = "jeto_identity.sso.oidc.backend.OrganizationOIDCBackend"


@register(Tags.security)
def check_sso(app_configs, **kwargs) -> list[CheckMessage]:
    """Single sign-on: the callback backend is installed; secrets at rest have a key of their own in production."""
    from jeto_identity.conf import jeto_settings
    from jeto_identity.core.crypto import configured_keys

    messages: list[CheckMessage] = []
    if SSO_BACKEND not in getattr(settings, "AUTHENTICATION_BACKENDS", []):
        messages.append(
            Error(
                f"Single sign-on needs '{SSO_BACKEND}' in AUTHENTICATION_BACKENDS (after the email backend).",
                id="jeto_identity.E101",
            )
        )
    if not settings.DEBUG and not configured_keys():
        messages.append(
            Warning(
                "JETO_IDENTITY['FIELD_ENCRYPTION_KEYS'] is empty: IdP client secrets are encrypted with a key derived "
                "from SECRET_KEY, so rotating SECRET_KEY makes them unreadable. Set a key of its own.",
                id="jeto_identity.W101",
            )
        )
    if not settings.DEBUG and jeto_settings.SSO_ALLOW_LOCAL_IDPS:
        messages.append(
            Warning(
                "JETO_IDENTITY['SSO_ALLOW_LOCAL_IDPS'] is on outside DEBUG: org admins can make the server fetch "
                "http:// and private-network URLs.",
                id="jeto_identity.W102",
            )
        )
    return messages


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
            id="jeto_identity.W020",
        )
    ]
