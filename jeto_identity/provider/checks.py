"""System checks for the OpenID Provider (IDs ``jeto_identity.E30x`` / ``W30x``).

Jeto Identity is an OpenID Provider: a host without ``OAUTH2_PROVIDER = oauth2_provider_settings(...)`` or
without the provider's URLs gets errors here, not a 404 at discovery or ``invalid_scope`` at sign-in.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.urls import NoReverseMatch, Resolver404, resolve, reverse

from jeto_identity.provider.settings import OIDC_SCOPES

HELPER_HINT = (
    "Set OAUTH2_PROVIDER = oauth2_provider_settings(...) from jeto_identity.provider.settings (docs/integrators.md)."
)
# URL name in DOT's namespace -> the view of ours (or a subclass) that must answer it.
PROVIDER_VIEWS = {
    "oidc-connect-discovery-info": "DiscoveryView",
    "authorize": "AuthorizationView",
    "token": "TokenView",
}
DISCOVERY_PATH = "/.well-known/openid-configuration"


@register(Tags.security, Tags.compatibility)
def check_openid_provider(app_configs, **kwargs) -> list[CheckMessage]:
    """The OpenID Provider needs OIDC on, our server and validator, a signing key and one agreed issuer."""
    from oauth2_provider.settings import oauth2_settings

    if not oauth2_settings.OIDC_ENABLED:
        return [
            Error(
                "django-oauth-toolkit's OIDC is off: Jeto's OpenID Provider (discovery, ID tokens) cannot work.",
                hint=HELPER_HINT,
                id="jeto_identity.E304",
            )
        ]
    problems: list[CheckMessage] = [*_classes(oauth2_settings), *_scopes(oauth2_settings), *_offer(oauth2_settings)]
    if not oauth2_settings.OIDC_RSA_PRIVATE_KEY:
        problems.append(
            Error(
                "No OIDC signing key: set OAUTH2_PROVIDER['OIDC_RSA_PRIVATE_KEY'] (see docs/key-rotation.md).",
                hint="oauth2_provider_settings(signing_key=...) or key_dir= (`manage.py oidckeys rotate --dir`).",
                id="jeto_identity.E301",
            )
        )
    problems += _issuer(oauth2_settings)
    return problems


def _classes(oauth2_settings: Any) -> list[CheckMessage]:
    from jeto_identity.provider.server import JetoServer
    from jeto_identity.provider.validators import JetoOAuth2Validator

    problems: list[CheckMessage] = []
    server = oauth2_settings.OAUTH2_SERVER_CLASS  # DOT falls back to OIDC_SERVER_CLASS when OIDC is on
    if not (isinstance(server, type) and issubclass(server, JetoServer)):
        problems.append(
            Error(
                f"The OAuth server class is {_name(server)}, not Jeto's JetoServer (or a subclass): flows Jeto "
                "refuses (implicit, password, plain PKCE) would be served.",
                hint=HELPER_HINT,
                id="jeto_identity.E305",
            )
        )
    validator = oauth2_settings.OAUTH2_VALIDATOR_CLASS
    if not (isinstance(validator, type) and issubclass(validator, JetoOAuth2Validator)):
        problems.append(
            Error(
                f"OAUTH2_VALIDATOR_CLASS is {_name(validator)}, not Jeto's JetoOAuth2Validator (or a subclass): "
                "ID tokens would lack amr and organizations, and application connections would not work.",
                hint=HELPER_HINT,
                id="jeto_identity.E306",
            )
        )
    return problems


def _offer(oauth2_settings: Any) -> list[CheckMessage]:
    """Settings may narrow what the server offers, never widen it: say so when they try (the server ignores it)."""
    from jeto_identity.provider.server import SUPPORTED_GRANT_TYPES, SUPPORTED_RESPONSE_TYPES

    widened: list[str] = []
    response_types = sorted(set(oauth2_settings.OIDC_RESPONSE_TYPES_SUPPORTED) - set(SUPPORTED_RESPONSE_TYPES))
    if response_types:
        widened.append(f"OIDC_RESPONSE_TYPES_SUPPORTED lists {', '.join(response_types)}")
    grant_types = sorted(set(oauth2_settings.OAUTH2_GRANT_TYPES_SUPPORTED) - set(SUPPORTED_GRANT_TYPES))
    if grant_types:
        widened.append(f"OAUTH2_GRANT_TYPES_SUPPORTED lists {', '.join(grant_types)}")
    if oauth2_settings.PKCE_REQUIRED is not True:
        widened.append("PKCE_REQUIRED is not True")
    if not widened:
        return []
    return [
        Error(
            f"OAUTH2_PROVIDER offers flows Jeto refuses ({'; '.join(widened)}). Jeto's server still serves only the "
            "code flow with PKCE S256, refresh tokens and client credentials, so these settings do not say what "
            "it does.",
            hint=HELPER_HINT + " Its settings may narrow the offer, never widen it.",
            id="jeto_identity.E309",
        )
    ]


def _scopes(oauth2_settings: Any) -> list[CheckMessage]:
    scopes = set(oauth2_settings.SCOPES)
    if "openid" not in scopes:
        return [
            Error(
                "OAUTH2_PROVIDER['SCOPES'] has no 'openid': every sign-in by a relying party fails with invalid_scope.",
                hint=HELPER_HINT,
                id="jeto_identity.E307",
            )
        ]
    missing = sorted(set(OIDC_SCOPES) - scopes)
    if missing:
        return [
            Warning(
                f"OAUTH2_PROVIDER['SCOPES'] lacks {', '.join(missing)}: relying parties cannot ask for those claims.",
                hint=HELPER_HINT,
                id="jeto_identity.W302",
            )
        ]
    return []


def _issuer(oauth2_settings: Any) -> list[CheckMessage]:
    from jeto_identity.conf import jeto_settings

    problems: list[CheckMessage] = []
    issuer = jeto_settings.ISSUER
    if issuer != (oauth2_settings.OIDC_ISS_ENDPOINT or ""):
        problems.append(
            Error(
                "JETO_IDENTITY['ISSUER'] and OAUTH2_PROVIDER['OIDC_ISS_ENDPOINT'] differ; set both from one value.",
                hint="oauth2_provider_settings(issuer=JETO_IDENTITY['ISSUER'], ...).",
                id="jeto_identity.E302",
            )
        )
    if issuer and urlsplit(issuer).path not in ("", "/"):
        problems.append(
            Error(
                "The OIDC issuer must be the site's root URL (no path): discovery is served at "
                "/.well-known/openid-configuration.",
                id="jeto_identity.E303",
            )
        )
    if issuer and (issuer.endswith("/") or not issuer.startswith(("https://", "http://localhost", "http://127."))):
        problems.append(
            Warning("The OIDC issuer should be an https:// URL without a trailing slash.", id="jeto_identity.W301")
        )
    return problems


@register(Tags.urls, Tags.security)
def check_provider_urls(app_configs, **kwargs) -> list[CheckMessage]:
    """Discovery, authorization and token endpoints are mounted, at the root, and answered by our views."""
    from jeto_identity.provider import views

    wrong: list[str] = []
    for name, view_name in PROVIDER_VIEWS.items():
        expected = getattr(views, view_name)
        try:
            path = reverse(f"oauth2_provider:{name}")
            view_class = getattr(resolve(path).func, "view_class", None)
        except (NoReverseMatch, Resolver404):
            wrong.append(f"{name} (not mounted)")
            continue
        if not (isinstance(view_class, type) and issubclass(view_class, expected)):
            wrong.append(f"{name} (answered by {_name(view_class)})")
        elif name == "oidc-connect-discovery-info" and path != DISCOVERY_PATH:
            wrong.append(f"{name} (at {path}, not {DISCOVERY_PATH})")
    if not wrong:
        return []
    return [
        Error(
            f"The OpenID Provider's URLs are not Jeto's: {'; '.join(wrong)}.",
            hint='Include them at the root of ROOT_URLCONF: path("", include("jeto_identity.provider.urls")) '
            "(instead of oauth2_provider.urls).",
            id="jeto_identity.E308",
        )
    ]


def _name(value: Any) -> str:
    return f"{value.__module__}.{value.__qualname__}" if isinstance(value, type) else repr(value)
