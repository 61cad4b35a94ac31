"""What the ID token and userinfo say about a user, per scope; a host adds claims through its adapter."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from jeto_identity.conf import jeto_settings
from jeto_identity.models import Membership, User

# Which scope releases which claim (OIDC Core 5.4, plus our `organizations` scope).
BASE_CLAIM_SCOPES = {
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


def claim_scopes() -> dict[str, str]:
    """Claim -> releasing scope: ours, as the adapter's ``claim_scopes`` extends them (cached per settings)."""
    from jeto_identity.adapter import get_adapter

    return jeto_settings.cached("claim_scopes", lambda: dict(get_adapter().claim_scopes(dict(BASE_CLAIM_SCOPES))))


class _ClaimScopes(Mapping[str, str]):
    """``claim_scopes()`` read at each lookup: DOT's ``oidc_claim_scope`` is a class attribute."""

    def __getitem__(self, claim: str) -> str:
        return claim_scopes()[claim]

    def __iter__(self) -> Iterator[str]:
        return iter(claim_scopes())

    def __len__(self) -> int:
        return len(claim_scopes())


CLAIM_SCOPES: Mapping[str, str] = _ClaimScopes()


def organizations(user: User) -> list[dict[str, str]]:
    """The user's organisations, each with its slug, name and the user's role."""
    memberships = Membership.objects.filter(user=user).select_related("organization").order_by("organization__slug")
    return [{"slug": m.organization.slug, "name": m.organization.name, "role": m.role} for m in memberships]


def user_claims(user: User) -> dict[str, Any]:
    """Claim name -> value (or a callable taking the oauthlib request, for claims that cost a query)."""
    from jeto_identity.adapter import get_adapter

    claims = {
        "name": user.get_full_name() or None,
        "given_name": user.first_name or None,
        "family_name": user.last_name or None,
        "email": user.email,
        "email_verified": bool(user.email_verified),
        "organizations": lambda request: organizations(user),
    }
    return get_adapter().populate_claims(user, claims)


def supported_claims() -> list[str]:
    return [*claim_scopes(), *AUTHENTICATION_CLAIMS]
