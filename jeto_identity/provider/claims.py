"""What the ID token and userinfo say about a user, per scope."""

from __future__ import annotations

from typing import Any

from jeto_identity.models import Membership, User

# Which scope releases which claim (OIDC Core 5.4, plus our `organizations` scope).
CLAIM_SCOPES = {
    "sub": "openid",
    "name": "profile",
    "given_name": "profile",
    "family_name": "profile",
    "email": "email",
    "email_verified": "email",
    "organizations": "organizations",
}
# Claims about the authentication event, always in ID tokens (never in userinfo).
AUTHENTICATION_CLAIMS = ["auth_time", "amr"]


def organizations(user: User) -> list[dict[str, str]]:
    """The user's organisations, each with its slug, name and the user's role."""
    memberships = Membership.objects.filter(user=user).select_related("organization").order_by("organization__slug")
    return [{"slug": m.organization.slug, "name": m.organization.name, "role": m.role} for m in memberships]


def user_claims(user: User) -> dict[str, Any]:
    """Claim name -> value (or a callable taking the oauthlib request, for claims that cost a query)."""
    return {
        "name": user.get_full_name() or None,
        "given_name": user.first_name or None,
        "family_name": user.last_name or None,
        "email": user.email,
        "email_verified": bool(user.email_verified),
        "organizations": lambda request: organizations(user),
    }


def supported_claims() -> list[str]:
    return [*CLAIM_SCOPES, *AUTHENTICATION_CLAIMS]
