"""``{% mfa_status user as mfa %}``: the account page's two-step verification summary."""

from __future__ import annotations

from django import template

from jeto_identity.mfa import services as mfa

register = template.Library()


@register.simple_tag
def mfa_status(user) -> dict:
    if not getattr(user, "is_authenticated", False):
        return {"enabled": False, "required": False, "codes_left": 0, "last_used": None, "passkeys": 0}
    device = mfa.confirmed_totp_device(user)
    passkeys = mfa.enrolled_factors(user)["passkeys"]
    policy = mfa.member_policy(user)
    return {
        "enabled": device is not None,
        "passkeys": passkeys,
        "required": policy.mfa_required,
        "phishing_resistant": policy.phishing_resistant,
        "codes_left": mfa.recovery_codes_left(user) if device or passkeys else 0,
        "last_used": device.last_used_at if device else None,
    }
