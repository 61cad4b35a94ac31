from .clients import ApplicationConnection, OAuthClient
from .mfa import EncryptedTOTPDevice
from .oidc import AuthenticationContext, RelyingParty
from .organizations import Membership, Organization, OrganizationDomain, Role
from .sso import FederatedIdentity, SSOConnection
from .users import User

__all__ = [
    "ApplicationConnection",
    "AuthenticationContext",
    "EncryptedTOTPDevice",
    "FederatedIdentity",
    "Membership",
    "OAuthClient",
    "Organization",
    "OrganizationDomain",
    "RelyingParty",
    "Role",
    "SSOConnection",
    "User",
]
