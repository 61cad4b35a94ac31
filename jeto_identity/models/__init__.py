"""Every model of the app, re-exported: one app label (``jeto_identity``), each model defined in its feature's
``models.py`` (core, provider, sso, mfa, connections, audit, throttle)."""

from jeto_identity.audit.models import AuditEvent
from jeto_identity.connections.models import ApplicationConnection, OAuthClient, ProgrammeApplication
from jeto_identity.core.organizations import Membership, Organization, OrganizationDomain, Role
from jeto_identity.core.sessions import UserSession
from jeto_identity.core.users import User
from jeto_identity.mfa.models import EncryptedTOTPDevice
from jeto_identity.mfa.webauthn.models import WebAuthnDevice
from jeto_identity.orgadmin.models import Invitation, Plan
from jeto_identity.provider.models import AuthenticationContext, RelyingParty
from jeto_identity.provisioning.models import ScimGroup, ScimToken, ScimUser
from jeto_identity.sso.models import FederatedIdentity, SAMLConnection, SSOConnection
from jeto_identity.throttle.models import Lockout

__all__ = [
    "ApplicationConnection",
    "AuditEvent",
    "AuthenticationContext",
    "EncryptedTOTPDevice",
    "FederatedIdentity",
    "Invitation",
    "Lockout",
    "Membership",
    "OAuthClient",
    "Organization",
    "OrganizationDomain",
    "Plan",
    "ProgrammeApplication",
    "RelyingParty",
    "Role",
    "ScimGroup",
    "ScimToken",
    "ScimUser",
    "SAMLConnection",
    "SSOConnection",
    "User",
    "UserSession",
    "WebAuthnDevice",
]
