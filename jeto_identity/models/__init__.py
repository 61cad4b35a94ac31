from .clients import OAuthClient
from .organizations import Membership, Organization, OrganizationDomain, Role
from .sso import FederatedIdentity, SSOConnection
from .users import User

__all__ = [
    "FederatedIdentity",
    "Membership",
    "OAuthClient",
    "Organization",
    "OrganizationDomain",
    "Role",
    "SSOConnection",
    "User",
]
