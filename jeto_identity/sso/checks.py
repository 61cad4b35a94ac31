"""System checks for single sign-on (IDs ``jeto_identity.E10x`` / ``W10x``; SAML ``E11x`` / ``W11x``)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from jeto_identity.core.checks import find_entry

SSO_BACKEND = "jeto_identity.sso.oidc.backend.OrganizationOIDCBackend"


@register(Tags.security)
def check_sso(app_configs, **kwargs) -> list[CheckMessage]:
    """Single sign-on: the callback backend is installed; secrets at rest have a key of their own in production."""
    from jeto_identity.conf import jeto_settings
    from jeto_identity.core import keys

    messages: list[CheckMessage] = []
    if find_entry(getattr(settings, "AUTHENTICATION_BACKENDS", []), SSO_BACKEND) is None:
        messages.append(
            Error(
                f"Single sign-on needs '{SSO_BACKEND}' in AUTHENTICATION_BACKENDS (after the email backend).",
                id="jeto_identity.E101",
            )
        )
    if not settings.DEBUG and not keys.has_own_key(keys.IDP_SECRET):
        messages.append(
            Warning(
                "IdP client secrets are encrypted with a key derived from SECRET_KEY: anyone who learns SECRET_KEY "
                "can read them, and they stay readable only while that SECRET_KEY is kept in SECRET_KEY_FALLBACKS.",
                hint="Set JETO_IDENTITY['KEYS']['idp_secret'] (or FIELD_ENCRYPTION_KEYS) to a long random value "
                "of its own, newest first; docs/key-rotation.md has the procedure.",
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
def check_saml(app_configs, **kwargs) -> list[CheckMessage]:
    """SAML connections: the xmlsec1 program pysaml2 verifies signatures with, and a sane clock skew."""
    import shutil

    from jeto_identity.conf import jeto_settings

    messages: list[CheckMessage] = []
    skew = jeto_settings.SSO_SAML_CLOCK_SKEW
    if isinstance(skew, bool) or not isinstance(skew, int) or not 0 <= skew <= 600:
        messages.append(
            Error(
                f"JETO_IDENTITY['SSO_SAML_CLOCK_SKEW'] is {skew!r}: it must be a whole number of seconds from 0 to "
                "600.",
                hint="The default, 60, absorbs ordinary clock drift; keep the servers on NTP.",
                id="jeto_identity.E110",
            )
        )
    elif skew > 300:
        messages.append(
            Warning(
                f"JETO_IDENTITY['SSO_SAML_CLOCK_SKEW'] is {skew} s: an expired SAML assertion stays usable that long.",
                hint="Keep it at 60-120 s and fix the clocks (NTP) instead.",
                id="jeto_identity.W110",
            )
        )
    xmlsec1 = jeto_settings.SSO_SAML_XMLSEC1 or "xmlsec1"
    if shutil.which(xmlsec1) is None:
        messages.append(
            Warning(
                f"The xmlsec1 program ({xmlsec1!r}) is not installed: SAML connections can't verify their IdP's "
                "signatures, so every SAML sign-in fails (with a clear page, never unverified).",
                hint="Install Debian's xmlsec1 (apt-get install xmlsec1), or set JETO_IDENTITY['SSO_SAML_XMLSEC1'] "
                "to its path.",
                id="jeto_identity.W111",
            )
        )
    return messages
