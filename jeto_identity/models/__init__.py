from .clients import ApplicationConnection, OAuthClient
from .organizations import Membership, Organization, OrganizationDomain, Role
from .users import User

__all__ = [
    "ApplicationConnection",
    "Membership",
    "OAuthClient",
    "Organization",
    "OrganizationDomain",
    "Role",
    "User",
]
