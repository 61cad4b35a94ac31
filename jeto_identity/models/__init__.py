from .clients import ApplicationConnection, OAuthClient
from .mfa import EncryptedTOTPDevice
from .organizations import Membership, Organization, OrganizationDomain, Role
from .sso import FederatedIdentity, SSOConnection
from .users import User

__all__ = [
    "ApplicationConnection",
    "EncryptedTOTPDevice",
    "FederatedIdentity",
    "Membership",
    "OAuthClient",
    "Organization",
    "OrganizationDomain",
    "Role",
    "SSOConnection",
    "User",
]
