"""``{% mfa_status user as mfa %}``: the account page's two-step verification summary."""

from __future__ import annotations

from django import template

from jeto_identity.mfa import services as mfa

register = template.Library()


@register.simple_tag
def mfa_status(user) -> dict:
    if not getattr(user, "is_authenticated", False):
        return {"enabled": False, "required": False, "codes_left": 0, "last_used": None}
    device = mfa.confirmed_totp_device(user)
    return {
        "enabled": device is not None,
        "required": mfa.mfa_required(user),
        "codes_left": mfa.recovery_codes_left(user) if device else 0,
        "last_used": device.last_used_at if device else None,
    }
