"""System checks for multi-factor authentication (IDs ``jeto_identity.E20x``)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register

from jeto_identity.core.checks import AUTH_MW

OTP_MW = "django_otp.middleware.OTPMiddleware"
MFA_MW = "jeto_identity.mfa.middleware.MFAPolicyMiddleware"
MESSAGES_MW = "django.contrib.messages.middleware.MessageMiddleware"


@register(Tags.security)
def check_mfa_middleware(app_configs, **kwargs) -> list[Error]:
    errors: list[Error] = []
    middleware = list(getattr(settings, "MIDDLEWARE", []))
    if OTP_MW in middleware and AUTH_MW in middleware and middleware.index(OTP_MW) < middleware.index(AUTH_MW):
        errors.append(
            Error("django_otp's OTPMiddleware must come after AuthenticationMiddleware.", id="jeto_identity.E201")
        )
    if MFA_MW not in middleware:
        errors.append(
            Error(
                f"Add {MFA_MW} to MIDDLEWARE (after OTPMiddleware and MessageMiddleware): it enforces organisation "
                "MFA policy and the admin MFA requirement.",
                id="jeto_identity.E202",
            )
        )
    elif any(m not in middleware or middleware.index(m) > middleware.index(MFA_MW) for m in (OTP_MW, MESSAGES_MW)):
        errors.append(
            Error(
                "MFAPolicyMiddleware must come after django_otp's OTPMiddleware and MessageMiddleware.",
                id="jeto_identity.E203",
            )
        )
    return errors
