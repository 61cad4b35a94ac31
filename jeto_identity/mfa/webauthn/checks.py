"""System checks for passkeys and the session registry (IDs ``jeto_identity.E21x`` / ``W21x``)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from jeto_identity.conf import jeto_settings
from jeto_identity.core.checks import AUTH_MW, comes_before, find_entry

SESSIONS_MW = "jeto_identity.core.sessions.SessionRegistryMiddleware"
OTP_MW = "django_otp.middleware.OTPMiddleware"


@register(Tags.security)
def check_session_registry(app_configs, **kwargs) -> list[Error]:
    middleware = list(getattr(settings, "MIDDLEWARE", []))
    if find_entry(middleware, SESSIONS_MW) is None:
        return [
            Error(
                f"Add {SESSIONS_MW} to MIDDLEWARE (after AuthenticationMiddleware): without it a session ended "
                "from the account page or by deprovisioning stays signed in.",
                id="jeto_identity.E210",
            )
        ]
    if not comes_before(middleware, AUTH_MW, SESSIONS_MW) or comes_before(middleware, OTP_MW, SESSIONS_MW):
        return [
            Error(
                "SessionRegistryMiddleware must come after AuthenticationMiddleware and before django_otp's "
                "OTPMiddleware.",
                id="jeto_identity.E211",
            )
        ]
    return []


def _host_within(host: str, rp_id: str) -> bool:
    return host == rp_id or host.endswith("." + rp_id)


@register(Tags.security)
def check_webauthn_settings(app_configs, **kwargs) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    rp_id = str(jeto_settings.WEBAUTHN_RP_ID or "")
    origins = list(jeto_settings.WEBAUTHN_ORIGINS or [])
    if rp_id and ("/" in rp_id or ":" in rp_id or rp_id != rp_id.lower()):
        messages.append(
            Error(
                f"JETO_IDENTITY['WEBAUTHN_RP_ID'] {rp_id!r} must be a bare lower-case host name (e.g. example.com).",
                id="jeto_identity.E212",
            )
        )
    for origin in origins:
        parts = urlsplit(str(origin))
        valid = parts.scheme in ("https", "http") and parts.hostname and not parts.path.strip("/")
        if not valid or (parts.scheme == "http" and parts.hostname not in ("localhost", "127.0.0.1")):
            messages.append(
                Error(
                    f"JETO_IDENTITY['WEBAUTHN_ORIGINS'] entry {origin!r} is not an https:// origin (scheme://host"
                    "[:port], no path; http:// only for localhost).",
                    id="jeto_identity.E213",
                )
            )
        elif rp_id and not _host_within(parts.hostname, rp_id):
            messages.append(
                Error(
                    f"WEBAUTHN_ORIGINS entry {origin!r} is not within WEBAUTHN_RP_ID {rp_id!r}: browsers refuse "
                    "every passkey ceremony there.",
                    id="jeto_identity.E214",
                )
            )
    return messages


@register(Tags.security, deploy=True)
def check_webauthn_deploy(app_configs, **kwargs) -> list[Warning]:
    if jeto_settings.WEBAUTHN_RP_ID:
        return []
    return [
        Warning(
            "JETO_IDENTITY['WEBAUTHN_RP_ID'] is empty: passkeys are bound to whatever host each request names. "
            "Set it (and WEBAUTHN_ORIGINS) to your sign-in site's domain.",
            id="jeto_identity.W210",
        )
    ]
