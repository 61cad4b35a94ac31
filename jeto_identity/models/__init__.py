from .clients import OAuthClient
from .organizations import Membership, Organization, OrganizationDomain, Role
from .users import User

__all__ = ["Membership", "OAuthClient", "Organization", "OrganizationDomain", "Role", "User"]
