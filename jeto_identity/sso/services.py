"""Single sign-on rules, free of HTTP: home-realm discovery, enforcement, and who an IdP may sign in as.

The rules that keep one organisation's IdP inside its own organisation (docs/security.md):

* a federated identity is keyed on (connection, sub) — the SAML NameID is its ``sub`` — never on email alone;
  repointing a connection at another IdP (issuer, client ID, SAML entity ID or organisation changed) drops its
  links;
* whoever a connection signs in as must have an email in a *verified* domain of that connection's organisation,
  at every sign-in (so a link can't outlive a change of email or of domain ownership);
* an existing account is linked only when the IdP asserts the email is verified, and only when the account is
  in the connection's organisation or in none;
* an account with power (staff, or owner/admin of any organisation, or a member of another organisation too) is
  never linked silently: its holder confirms the link once with their password and their own second factor;
* JIT creates only accounts that don't exist yet (through the adapter's ``provision_user``);
* a platform superuser is never signed in through an organisation's IdP.

Both connection types (``sso.oidc``, ``sso.saml``) reduce what their IdP proved to a dict of claims in OIDC's
vocabulary (``sub``, ``email``, the connection's email-verified claim, ``given_name``, ``family_name``, the role
claim) and hand it to ``federated_sign_in``; ``finish_federated_login`` then passes the user to the login pipeline.
Whether a connection may route anyone at all is decided by ``connection_may_route`` alone.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from jeto_identity.adapter import get_adapter
from jeto_identity.audit import services as audit
from jeto_identity.core.organizations import ADMIN_ROLES, Role, verified_domain_owner
from jeto_identity.core.users import normalize_email
from jeto_identity.login import services as login_service
from jeto_identity.models import FederatedIdentity, Membership, Organization, OrganizationDomain, SSOConnection, User
from jeto_identity.orgadmin import invitations, plans
from jeto_identity.sso import signals

logger = logging.getLogger("jeto_identity.sso")

# Set by the break-glass page: the email step then skips home-realm discovery (the password step still only
# lets platform superusers through for an SSO-enforced domain).
BREAK_GLASS_SESSION_KEY = "jeto_sso_break_glass"
# After a federated first factor: the organisation whose IdP signed the user in (read by the MFA stage).
FEDERATED_ORG_SESSION_KEY = "jeto_sso_org"
# A link the IdP asked for that the account's holder must confirm with their own credentials (see below).
LINK_CONFIRMATION_SESSION_KEY = "jeto_sso_link"
_ROLE_RANK = {Role.MEMBER: 0, Role.ADMIN: 1}


class SSOLoginRefused(Exception):
    """The IdP proved who the person is, but our rules don't let them in. ``message`` is safe to show them."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason  # short code for logs and tests


class LinkConfirmationRequired(Exception):
    """The IdP vouched for an existing account that may only be linked after its holder proves themselves."""

    def __init__(self, user: User, claims: dict[str, Any]) -> None:
        super().__init__("link confirmation required")
        self.user = user
        self.claims = claims


# ---- home-realm discovery and enforcement -------------------------------------------------------------------


def email_domain(email: str) -> str:
    email = normalize_email(email)
    return email.rsplit("@", 1)[1] if "@" in email else ""


def organization_for_email(email: str) -> Organization | None:
    """The organisation owning the email's domain, if that domain is verified."""
    return verified_domain_owner(email_domain(email))


def sso_entitled(organization: Organization | int | None) -> bool:
    """Does the organisation's plan include single sign-on? Every connection type asks this before routing a
    sign-in to its IdP or accepting one back (``orgadmin.plans``); switched off, nothing routes and nothing is
    deleted."""
    return plans.is_entitled(organization, plans.SSO)


def connection_usable(connection: SSOConnection | None) -> bool:
    """May this connection start or finish a sign-in now: enabled, and its organisation's plan includes SSO."""
    return connection is not None and connection.enabled and sso_entitled(connection.organization_id)


def connection_may_route(connection: SSOConnection | None) -> bool:
    """May this connection send anyone to its IdP and sign them in? The one place that decides it (start, callback,
    ACS, routing, link confirmation) for every connection type: enabled, and the organisation's plan includes SSO."""
    return connection_usable(connection)


def enabled_connection(organization: Organization | None) -> SSOConnection | None:
    if organization is None or not sso_entitled(organization):
        return None
    connection = SSOConnection.objects.filter(organization=organization, enabled=True).first()
    return connection if connection_may_route(connection) else None


def routable_connection(public_id: Any) -> SSOConnection | None:
    """The connection a start, callback or ACS URL names, if it may route; None otherwise (the view's 404)."""
    connection = SSOConnection.objects.select_related("organization").filter(public_id=public_id).first()
    return connection if connection_may_route(connection) else None


def connection_for_email(email: str) -> SSOConnection | None:
    """The connection an email's domain routes to. Depends on the domain only, never on whether a user exists."""
    return enabled_connection(organization_for_email(email))


def start_url(connection: SSOConnection) -> str:
    name = "jeto_identity:saml_start" if connection.is_saml else "jeto_identity:sso_start"
    return reverse(name, kwargs={"connection_id": connection.public_id})


def email_router(request: HttpRequest, pending: login_service.PendingLogin) -> str | None:
    """Login-pipeline email router: send a work email to its organisation's IdP."""
    if request.session.get(BREAK_GLASS_SESSION_KEY):
        return None
    connection = connection_for_email(pending.email)
    return start_url(connection) if connection else None


def enforcing_organization(email: str) -> Organization | None:
    """The organisation that requires SSO for this email (its verified domain, "enforce SSO" on), or None."""
    org = organization_for_email(email)
    # A plan without SSO suspends enforcement (the flag is kept): nobody could sign in otherwise.
    return org if org is not None and org.sso_enforced and sso_entitled(org) else None


def password_login_allowed(email: str, user: User | None) -> bool:
    """May this email sign in with a password? Superusers keep a break-glass path; the answer for everyone
    else depends on the domain only (a right or wrong password gets the same refusal)."""
    if enforcing_organization(email) is None:
        return True
    if user is not None and user.is_superuser:
        logger.warning("break-glass password sign-in by superuser %s in an SSO-enforced domain", user.pk)
        return True
    return False


def sso_required_message(email: str) -> str:
    org = enforcing_organization(email)
    name = org.name if org else "Your organisation"
    if org is not None and enabled_connection(org) is None:
        return f"{name} requires single sign-on, but its connection is switched off. Contact your administrator."
    return f"{name} requires single sign-on: sign in through your organisation's identity provider instead."


# ---- MFA after SSO ------------------------------------------------------------------------------------------


def mfa_required_after_federation(request: HttpRequest, pending: login_service.PendingLogin) -> bool | None:
    """For the MFA stage. None: apply the usual rules, as after a password (not a federated sign-in, or an IdP that
    can't answer for every organisation of the person). Otherwise whether our second factor is still required:
    only when the IdP's organisation has "require MFA after SSO" on."""
    if "fed" not in pending.amr:
        return None
    org_id = request.session.get(FEDERATED_ORG_SESSION_KEY)
    if not org_id or not idp_answers_for_every_organization(pending.user_id, org_id):
        return None
    return Organization.objects.filter(pk=org_id, mfa_after_sso=True).exists()


def idp_answers_for_every_organization(user_id: Any, org_id: int) -> bool:
    """An IdP is trusted for MFA on its own organisation's behalf only: it stands in for our second factor only
    for a person who belongs to no other organisation (whose policies, admin pages and data it doesn't answer
    for)."""
    return not Membership.objects.filter(user_id=user_id).exclude(organization_id=org_id).exists()


def federated_session_exempt_from_mfa(request: HttpRequest) -> bool:
    """For the MFA policy middleware: a session signed in through an IdP that answers for every organisation of
    the person, whose organisation doesn't ask for our code after SSO, satisfies the MFA policy (the IdP is
    trusted for it). Read per request, so switching "require MFA after SSO" on, or joining another organisation,
    applies to sessions already open."""
    amr = request.session.get(login_service.AMR_SESSION_KEY) or []
    if "fed" not in amr or "otp" in amr:
        return False
    org_id = request.session.get(FEDERATED_ORG_SESSION_KEY)
    return (
        bool(org_id)
        and not Organization.objects.filter(pk=org_id, mfa_after_sso=True).exists()
        and idp_answers_for_every_organization(request.user.pk, org_id)
    )


# ---- who the IdP may sign in as -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Assertion:
    """What the IdP told us, reduced to what the rules need."""

    subject: str
    email: str
    email_verified: bool
    given_name: str = ""
    family_name: str = ""
    claims: dict[str, Any] | None = None

    @classmethod
    def from_claims(cls, connection: SSOConnection, claims: dict[str, Any]) -> Assertion:
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject or len(subject) > 255:
            raise SSOLoginRefused("Your identity provider didn't identify you properly.", "bad_sub")
        email = claims.get("email")
        if not isinstance(email, str) or "@" not in email or len(email) > 254:
            raise SSOLoginRefused(
                "Your identity provider didn't share your email address. Ask your administrator to release the "
                "email claim to this application.",
                "no_email",
            )
        verified = claims.get(connection.email_verified_claim or "email_verified")
        return cls(
            subject=subject,
            email=normalize_email(email),
            email_verified=verified is True or (isinstance(verified, str) and verified.lower() == "true"),
            given_name=str(claims.get("given_name") or "")[:150],
            family_name=str(claims.get("family_name") or "")[:150],
            claims=claims,
        )


def _verified_domains(organization_id: int) -> set[str]:
    return set(
        OrganizationDomain.objects.filter(organization_id=organization_id, verified=True).values_list(
            "domain", flat=True
        )
    )


def _check_in_organization(connection: SSOConnection, email: str) -> None:
    if email_domain(email) not in _verified_domains(connection.organization_id):
        raise SSOLoginRefused(
            f"{connection.organization.name}'s identity provider can only sign in people with an email address "
            f"in {connection.organization.name}'s domains.",
            "foreign_domain",
        )


def _check_user_may_sign_in(user: User) -> None:
    if not user.is_active:
        raise SSOLoginRefused("This account is disabled. Contact your administrator.", "inactive")
    if user.is_superuser:
        raise SSOLoginRefused(
            "Platform administrators can't sign in through an organisation's identity provider.", "superuser"
        )


def mapped_role(connection: SSOConnection, claims: dict[str, Any] | None) -> str:
    """The highest role whose claim value the IdP asserted, else the connection's default role."""
    role = connection.default_role
    if not connection.role_claim or not claims:
        return role
    values = claims.get(connection.role_claim)
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list):
        return role
    matched = [
        connection.role_mapping.get(v)
        for v in values
        if isinstance(v, str) and isinstance(connection.role_mapping, dict)
    ]
    matched = [r for r in matched if r in _ROLE_RANK]
    return max(matched, key=_ROLE_RANK.__getitem__) if matched else role


def _role_for(connection: SSOConnection, claims: dict[str, Any] | None) -> str:
    """The adapter's ``map_role``; a value that is not a role an IdP may grant (member, admin: never owner) refuses
    the sign-in instead of storing it."""
    role = get_adapter().map_role(connection, claims)
    if role not in _ROLE_RANK:
        logger.error("adapter map_role gave %r for connection %s: not a role an IdP may grant", role, connection.pk)
        raise SSOLoginRefused("Your organisation's sign-in settings are misconfigured. Contact support.", "bad_role")
    return role


def _sync_membership(connection: SSOConnection, user: User, claims: dict[str, Any] | None, *, may_create: bool) -> None:
    membership = Membership.objects.filter(user=user, organization_id=connection.organization_id).first()
    role = _role_for(connection, claims)
    if membership is None:
        # An open invitation of this address to the connection's organisation: the IdP proved the address, so it
        # is accepted now, with the role the inviting admin chose (even without just-in-time provisioning).
        invited_role = invitations.claim_for_sso(connection.organization_id, user)
        if invited_role is not None:
            Membership.objects.create(user=user, organization_id=connection.organization_id, role=invited_role)
            return
        if not may_create:
            raise SSOLoginRefused(
                f"Your account isn't a member of {connection.organization.name}. Ask your administrator to add you.",
                "not_member",
            )
        Membership.objects.create(user=user, organization_id=connection.organization_id, role=role)
    elif connection.role_claim and membership.role != Role.OWNER and membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])


def link_needs_confirmation(connection: SSOConnection, user: User) -> bool:
    """Must this existing account's holder confirm a new link with their own credentials?

    Yes for staff, for an owner or admin of any organisation (the connection's own included: an admin's IdP must
    not become the owner), and for a member of any other organisation (the IdP would reach into it)."""
    if user.is_staff or user.is_superuser:
        return True
    rows = Membership.objects.filter(user=user).values_list("organization_id", "role")
    return any(role in ADMIN_ROLES or org_id != connection.organization_id for org_id, role in rows)


def _check_account_in_organization(connection: SSOConnection, user: User) -> None:
    """An existing account is linked only when it is in the connection's organisation, or in none."""
    org_ids = set(Membership.objects.filter(user=user).values_list("organization_id", flat=True))
    if org_ids and connection.organization_id not in org_ids:
        raise SSOLoginRefused(
            f"This account belongs to another organisation, so {connection.organization.name}'s identity provider "
            f"can't sign in to it. Ask an administrator of {connection.organization.name} to add you first.",
            "other_organization",
        )
    invited = invitations.has_open_invitation(connection.organization_id, user.email)
    if not org_ids and not connection.jit_provisioning and not invited:
        raise SSOLoginRefused(
            f"Your account isn't a member of {connection.organization.name}. Ask your administrator to add you.",
            "not_member",
        )


def resolve_user(connection: SSOConnection, claims: dict[str, Any], *, confirmed_user: User | None = None) -> User:
    """Find, link or create the user the IdP vouches for.

    Raises ``SSOLoginRefused`` with a reason, or ``LinkConfirmationRequired`` for an account whose holder must
    confirm the link first; ``confirmed_user`` is that account once they have (see ``confirm_link``).
    """
    if not connection_usable(connection):
        raise SSOLoginRefused(
            f"Single sign-on is not available for {connection.organization.name} at the moment. Sign in with your "
            "password, or contact your administrator.",
            "not_entitled",
        )
    assertion = Assertion.from_claims(connection, claims)
    try:
        with transaction.atomic():
            outcome = _resolve(connection, assertion, confirmed_user)
    except IntegrityError:
        # Two callbacks for the same new person at once: the other one won; use its result.
        with transaction.atomic():
            outcome = _resolve(connection, assertion, confirmed_user)
    user = outcome.user
    # Sent here, after the attempt that stood: a retried attempt's work was rolled back and announced nothing.
    if outcome.provisioned:
        signals.user_provisioned.send(sender=User, user=user, connection=connection, claims=dict(claims))
    if outcome.linked is not None:
        signals.account_linked.send(sender=User, user=user, connection=connection, identity=outcome.linked)
    logger.info("federated sign-in via connection %s for user %s", connection.pk, user.pk)
    return user


@dataclass(frozen=True)
class _Outcome:
    user: User
    provisioned: bool = False
    linked: FederatedIdentity | None = None


def _resolve(connection: SSOConnection, assertion: Assertion, confirmed_user: User | None = None) -> _Outcome:
    identity = (
        FederatedIdentity.objects.select_for_update()
        .select_related("user")
        .filter(connection=connection, subject=assertion.subject)
        .first()
    )
    if identity is not None:
        user = identity.user
        _check_user_may_sign_in(user)
        _check_in_organization(connection, user.email)
        _sync_membership(connection, user, assertion.claims, may_create=connection.jit_provisioning)
        identity.email = assertion.email
        identity.last_login_at = timezone.now()
        identity.save(update_fields=["email", "last_login_at"])
        return _Outcome(user)

    _check_in_organization(connection, assertion.email)
    provisioned = False
    user = User.objects.filter(email=assertion.email).first()
    if user is not None:
        if not assertion.email_verified:
            raise SSOLoginRefused(
                "An account with this email already exists, and your identity provider hasn't confirmed the "
                "address is verified, so we can't link them. Contact your administrator.",
                "email_unverified",
            )
        _check_user_may_sign_in(user)
        if FederatedIdentity.objects.filter(connection=connection, user=user).exists():
            raise SSOLoginRefused(
                "This account is already linked to a different identity at your identity provider.", "relinked"
            )
        _check_account_in_organization(connection, user)
        confirmed = confirmed_user is not None and confirmed_user.pk == user.pk
        if not confirmed and link_needs_confirmation(connection, user):
            raise LinkConfirmationRequired(user, assertion.claims or {})
        _sync_membership(connection, user, assertion.claims, may_create=connection.jit_provisioning)
        if not user.email_verified:
            user.email_verified = True
            user.save(update_fields=["email_verified"])
    elif connection.jit_provisioning or invitations.has_open_invitation(connection.organization_id, assertion.email):
        user = get_adapter().provision_user(connection, assertion)
        provisioned = True
        _sync_membership(connection, user, assertion.claims, may_create=True)
    else:
        raise SSOLoginRefused(
            f"There's no account for {assertion.email} yet. Ask your administrator to create one.", "no_account"
        )
    identity = FederatedIdentity.objects.create(
        connection=connection,
        subject=assertion.subject,
        user=user,
        email=assertion.email,
        last_login_at=timezone.now(),
    )
    return _Outcome(user, provisioned, identity)


# ---- confirming a link with the account's own credentials -------------------------------------------------------
#
# Like Keycloak's "first broker login" and Auth0's account-linking prompt: when the IdP vouches for an account that
# ``link_needs_confirmation`` protects, the callback keeps what the IdP asserted in the session and the person signs
# in once more with their existing password (and, through the ordinary MFA stage, their own second factor). Only
# then does ``link_confirmation_stage`` create the link, re-checking every rule as of that moment.

LINK_ERROR_SESSION_KEY = "jeto_sso_link_error"
_KEPT_CLAIMS = ("sub", "email", "given_name", "family_name")


@dataclass(frozen=True)
class PendingLink:
    connection: SSOConnection
    user: User
    claims: dict[str, Any]
    password_ok: bool


def begin_link_confirmation(request: HttpRequest, connection: SSOConnection, exc: LinkConfirmationRequired) -> None:
    """Remember (for ``SSO_STATE_MAX_AGE``) the link the IdP asked for; only what the rules need is kept."""
    names = [*_KEPT_CLAIMS, connection.email_verified_claim or "email_verified"]
    if connection.role_claim:
        names.append(connection.role_claim)
    claims = {name: exc.claims[name] for name in names if name in exc.claims}
    request.session[LINK_CONFIRMATION_SESSION_KEY] = {
        "connection": str(connection.public_id),
        "idp": _idp_identity(connection),
        "user_id": str(exc.user.pk),
        "claims": claims,
        "at": int(time.time()),
        "password_ok": False,
    }


def _idp_identity(connection: SSOConnection) -> list[Any]:
    """What makes a connection's ``sub`` meaningful: a link asked for under other values must not be made."""
    return connection.idp_identity()


def pending_link(request: HttpRequest) -> PendingLink | None:
    """The link waiting for confirmation in this session, if it is fresh and its connection and account are live,
    and the connection still points at the IdP that asked for it."""
    from jeto_identity.conf import jeto_settings

    state = request.session.get(LINK_CONFIRMATION_SESSION_KEY)
    if not isinstance(state, dict):
        return None
    fresh = 0 <= time.time() - int(state.get("at") or 0) <= int(jeto_settings.SSO_STATE_MAX_AGE)
    connection = routable_connection(state.get("connection")) if fresh else None
    if connection is not None and state.get("idp") != _idp_identity(connection):
        connection = None  # repointed since the IdP asked: its sub means nothing at the new one
    user = User.objects.filter(pk=state.get("user_id"), is_active=True).first() if connection else None
    if user is None or not isinstance(state.get("claims"), dict):
        request.session.pop(LINK_CONFIRMATION_SESSION_KEY, None)
        return None
    return PendingLink(connection, user, state["claims"], bool(state.get("password_ok")))


def mark_link_password_confirmed(request: HttpRequest) -> None:
    state = request.session.get(LINK_CONFIRMATION_SESSION_KEY)
    if isinstance(state, dict):
        state["password_ok"] = True
        request.session.modified = True


def pop_link_error(request: HttpRequest) -> str | None:
    return request.session.pop(LINK_ERROR_SESSION_KEY, None)


def link_confirmation_stage(request: HttpRequest, user: User, pending: login_service.PendingLogin) -> str | None:
    """Login-pipeline stage, after MFA: the holder gave their password (and second factor): create the link.

    Runs only for the account the IdP vouched for, and only after the confirmation page took its password. If a
    rule no longer holds (domain unverified, connection repointed, membership gone…), the sign-in is abandoned.
    """
    state = request.session.get(LINK_CONFIRMATION_SESSION_KEY)
    if not isinstance(state, dict) or not state.get("password_ok") or state.get("user_id") != str(user.pk):
        return None
    link = pending_link(request)
    request.session.pop(LINK_CONFIRMATION_SESSION_KEY, None)
    try:
        if link is None:
            raise SSOLoginRefused("This link request expired. Start again from the sign-in page.", "link_expired")
        with transaction.atomic():  # a refusal below leaves nothing behind
            if resolve_user(link.connection, link.claims, confirmed_user=user).pk != user.pk:
                raise SSOLoginRefused("This identity is already linked to another account.", "relinked")
    except (SSOLoginRefused, LinkConfirmationRequired) as exc:
        message = exc.message if isinstance(exc, SSOLoginRefused) else "This account can't be linked."
        logger.warning("SSO link confirmation for user %s refused: %s", user.pk, getattr(exc, "reason", "relinked"))
        login_service.abandon(request)
        request.session[LINK_ERROR_SESSION_KEY] = message
        return reverse("jeto_identity:sso_link_confirm")
    login_service.add_factor(request, pending, "fed")
    return None


# ---- one federated sign-in, whatever the connection type ----------------------------------------------------


@dataclass(frozen=True)
class SignInOutcome:
    """What ``federated_sign_in`` decided: exactly one of the three is set."""

    user: User | None = None
    link_confirmation: LinkConfirmationRequired | None = None
    refusal: SSOLoginRefused | None = None


def federated_sign_in(request: HttpRequest, connection: SSOConnection, claims: dict[str, Any]) -> SignInOutcome:
    """Apply the rules to what the IdP proved (``resolve_user``) and audit the result. Logs nobody in."""
    try:
        user = resolve_user(connection, claims)
    except LinkConfirmationRequired as exc:
        audit.record(
            audit.SSO_LINK_CONFIRMATION,
            request=request,
            subject=exc.user,
            organization=connection.organization,
            reason="confirmation_required",
            connection=connection.name,
        )
        return SignInOutcome(link_confirmation=exc)
    except SSOLoginRefused as exc:
        logger.warning("federated sign-in refused via connection %s: %s", connection.pk, exc.reason)
        audit.record(
            audit.SSO_SIGN_IN,
            request=request,
            subject=str(claims.get("email") or claims.get("sub") or ""),
            organization=connection.organization,
            outcome=audit.DENIED,
            reason=exc.reason,
            connection=connection.name,
        )
        return SignInOutcome(refusal=exc)
    audit.record(
        audit.SSO_SIGN_IN,
        request=request,
        subject=user,
        organization=connection.organization,
        connection=connection.name,
    )
    return SignInOutcome(user=user)


def record_rejected_response(request: HttpRequest, connection: SSOConnection, reason: str) -> None:
    """Audit an IdP response we refused before any rule ran (bad signature, replay, wrong audience…)."""
    audit.record(
        audit.SSO_SIGN_IN,
        request=request,
        subject="",
        organization=connection.organization,
        outcome=audit.DENIED,
        reason=reason,
        connection=connection.name,
    )


def finish_federated_login(
    request: HttpRequest, connection: SSOConnection, user: User, pending: login_service.PendingLogin
) -> str | None:
    """Hand a user the IdP signed in to the login pipeline (``fed`` first factor): the next stage's URL, or None
    when the sign-in is complete. Remembers which organisation's IdP it was (for "MFA after SSO")."""
    request.session[FEDERATED_ORG_SESSION_KEY] = connection.organization_id
    request.session.pop(BREAK_GLASS_SESSION_KEY, None)
    return login_service.first_factor_passed(request, pending, user, "fed")
