from .clients import ApplicationConnection, OAuthClient
from .mfa import EncryptedTOTPDevice
from .organizations import Membership, Organization, OrganizationDomain, Role
from .users import User

__all__ = [
    "ApplicationConnection",
    "EncryptedTOTPDevice",
    "Membership",
    "OAuthClient",
    "Organization",
    "OrganizationDomain",
    "Role",
    "User",
]
