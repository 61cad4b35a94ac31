from .audit import AuditEvent, Lockout
from .clients import OAuthClient
from .organizations import Membership, Organization, OrganizationDomain, Role
from .users import User

__all__ = ["AuditEvent", "Lockout", "Membership", "OAuthClient", "Organization", "OrganizationDomain", "Role", "User"]
