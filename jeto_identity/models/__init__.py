"""Every model of the app, re-exported: one app label (``jeto_identity``), each model defined in its feature's
``models.py`` (core, provider, sso, mfa, connections, audit, throttle)."""

from jeto_identity.audit.models import AuditEvent
from jeto_identity.connections.models import ApplicationConnection, OAuthClient
from jeto_identity.core.organizations import Membership, Organization, OrganizationDomain, Role
from jeto_identity.core.users import User
from jeto_identity.mfa.models import EncryptedTOTPDevice
from jeto_identity.provider.models import AuthenticationContext, RelyingParty
from jeto_identity.sso.models import FederatedIdentity, SAMLConnection, SSOConnection
from jeto_identity.throttle.models import Lockout

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
    "SAMLConnection",
    "SSOConnection",
    "User",
]
