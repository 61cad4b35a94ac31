"""System checks for multi-factor authentication (IDs ``jeto_identity.E20x``)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register

from jeto_identity.core.checks import AUTH_MW, comes_before, find_entry

OTP_MW = "django_otp.middleware.OTPMiddleware"
MFA_MW = "jeto_identity.mfa.middleware.MFAPolicyMiddleware"
MESSAGES_MW = "django.contrib.messages.middleware.MessageMiddleware"


@register(Tags.security)
def check_mfa_middleware(app_configs, **kwargs) -> list[Error]:
    errors: list[Error] = []
    middleware = list(getattr(settings, "MIDDLEWARE", []))
    if comes_before(middleware, OTP_MW, AUTH_MW):
        errors.append(
            Error("django_otp's OTPMiddleware must come after AuthenticationMiddleware.", id="jeto_identity.E201")
        )
    mfa = find_entry(middleware, MFA_MW)
    if mfa is None:
        errors.append(
            Error(
                f"Add {MFA_MW} to MIDDLEWARE (after OTPMiddleware and MessageMiddleware): it enforces organisation "
                "MFA policy and the admin MFA requirement.",
                id="jeto_identity.E202",
            )
        )
    elif any(not comes_before(middleware, m, MFA_MW) for m in (OTP_MW, MESSAGES_MW)):
        errors.append(
            Error(
                "MFAPolicyMiddleware must come after django_otp's OTPMiddleware and MessageMiddleware.",
                id="jeto_identity.E203",
            )
        )
    return errors
