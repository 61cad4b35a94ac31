from .clients import OAuthClient
from .oidc import AuthenticationContext, RelyingParty
from .organizations import Membership, Organization, OrganizationDomain, Role
from .users import User

__all__ = [
    "AuthenticationContext",
    "Membership",
    "OAuthClient",
    "Organization",
    "OrganizationDomain",
    "RelyingParty",
    "Role",
    "User",
]
