"""System checks for the OpenID Provider (IDs ``jeto_identity.E30x`` / ``W30x``)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, Tags.compatibility)
def check_openid_provider(app_configs, **kwargs) -> list[Error | Warning]:
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
                id="jeto_identity.E301",
            )
        )
    issuer = jeto_settings.ISSUER
    if issuer != (oauth2_settings.OIDC_ISS_ENDPOINT or ""):
        problems.append(
            Error(
                "JETO_IDENTITY['ISSUER'] and OAUTH2_PROVIDER['OIDC_ISS_ENDPOINT'] differ; set both from one value.",
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
