"""Admin side of MFA: reset a member's two-step verification (org-scoped), and an MFA column for users."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from jeto_identity.core import access
from jeto_identity.mfa import services as mfa
from jeto_identity.models import User


@admin.action(description="Reset two-step verification (remove authenticator app, passkeys and recovery codes)")
def reset_mfa(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[User]) -> None:
    """Org admins may reset only people they manage (all of whose organisations they run); superusers anyone.

    The member enrols again at their next sign-in if their organisation requires MFA.
    """
    done, refused = [], []
    for target in queryset:
        if request.user.is_superuser or access.can_manage_user(request.user, target):
            if target.pk == request.user.pk and not request.user.is_superuser:
                refused.append(target)
                continue
            mfa.reset_mfa(request.user, target)
            modeladmin.log_change(request, target, "Reset two-step verification.")
            done.append(target)
        else:
            refused.append(target)
    if done:
        modeladmin.message_user(
            request, f"Two-step verification reset for: {', '.join(u.email for u in done)}.", messages.SUCCESS
        )
    if refused:
        modeladmin.message_user(
            request,
            f"Not reset (outside the organisations you manage): {', '.join(u.email for u in refused)}.",
            messages.ERROR,
        )


@admin.display(description="MFA", boolean=True)
def mfa_enabled(user: User) -> bool:
    return mfa.has_mfa(user)


@admin.display(description="Sign-in factors")
def enrolled_factors(user: User) -> str:
    """Which factors the member has enrolled (counts only, never a secret): what an org admin may reset."""
    found = mfa.enrolled_factors(user)
    parts = []
    if found["passkeys"]:
        parts.append(f"{found['passkeys']} passkey{'s' if found['passkeys'] != 1 else ''}")
    if found["totp"]:
        parts.append("authenticator app")
    if found["recovery_codes"]:
        parts.append(f"{found['recovery_codes']} recovery codes")
    return ", ".join(parts) or "none"
