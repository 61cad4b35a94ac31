from .clients import OAuthClient
from .mfa import EncryptedTOTPDevice
from .oidc import AuthenticationContext, RelyingParty
from .organizations import Membership, Organization, OrganizationDomain, Role
from .users import User

__all__ = [
    "AuthenticationContext",
    "EncryptedTOTPDevice",
    "Membership",
    "OAuthClient",
    "Organization",
    "OrganizationDomain",
    "RelyingParty",
    "Role",
    "User",
]
