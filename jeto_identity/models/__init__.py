from .audit import AuditEvent, Lockout
from .clients import ApplicationConnection, OAuthClient
from .mfa import EncryptedTOTPDevice
from .oidc import AuthenticationContext, RelyingParty
from .organizations import Membership, Organization, OrganizationDomain, Role
from .sso import FederatedIdentity, SSOConnection
from .users import User

__all__ = [
    "ApplicationConnection",
    "AuditEvent",
    "AuthenticationContext",
    "EncryptedTOTPDevice",
    "FederatedIdentity",
    "Lockout",
    "Membership",
    "OAuthClient",
    "Organization",
    "OrganizationDomain",
    "RelyingParty",
    "Role",
    "SSOConnection",
    "User",
]
