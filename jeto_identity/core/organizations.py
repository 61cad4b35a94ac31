from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from jeto_identity.core import sql


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"


ADMIN_ROLES = (Role.OWNER, Role.ADMIN)


class Organization(models.Model):
    """A customer organisation. Its policy flags are edited by its own admins in Django admin."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=64, unique=True)
    mfa_required = models.BooleanField(
        "require MFA",
        default=False,
        help_text="Members must use an authenticator app; those without one enrol at their next sign-in.",
    )
    sso_enforced = models.BooleanField(
        "enforce SSO",
        default=False,
        help_text="Members whose email is in this organisation's domains must sign in through its IdP; "
        "password sign-in and reset are refused for them.",
    )
    mfa_after_sso = models.BooleanField(
        "require MFA after SSO",
        default=False,
        help_text="Also ask for our authenticator-app code after single sign-on. Off by default: the "
        "organisation's IdP usually does MFA itself.",
    )
    phishing_resistant_only = models.BooleanField(
        "phishing-resistant factors only",
        default=False,
        help_text="Members must use a passkey or security key; authenticator-app codes and recovery codes stop "
        "being accepted once the grace period ends. Implies \"require MFA\".",
    )
    phishing_resistant_grace_days = models.PositiveSmallIntegerField(
        "grace period (days)",
        default=14,
        help_text="Days members have to add a passkey after \"phishing-resistant only\" is switched on.",
    )
    phishing_resistant_since = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When \"phishing-resistant only\" was switched on."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Stamp when "phishing-resistant only" was switched on (the grace period counts from then)."""
        if self.phishing_resistant_only and self.phishing_resistant_since is None:
            self.phishing_resistant_since = timezone.now()
        elif not self.phishing_resistant_only:
            self.phishing_resistant_since = None
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "phishing_resistant_since"}
        super().save(*args, **kwargs)
        forget_verified_domain_owners()  # this request's memo holds organisations with their policy flags

    @property
    def phishing_resistant_deadline(self) -> datetime | None:
        """When TOTP and recovery codes stop working for members (None: the level is off)."""
        if not self.phishing_resistant_only:
            return None
        since = self.phishing_resistant_since or timezone.now()
        return since + timedelta(days=self.phishing_resistant_grace_days)

    @property
    def mfa_level(self) -> str:
        """``"phishing_resistant"``, ``"any"`` (require MFA) or ``"none"``."""
        if self.phishing_resistant_only:
            return "phishing_resistant"
        return "any" if self.mfa_required else "none"


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organization"], name="jeto_membership_unique")]
        ordering = ["organization__name", "user__email"]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"

    @property
    def is_admin(self) -> bool:
        return self.role in ADMIN_ROLES


class OrganizationDomain(models.Model):
    """An email domain. A domain belongs to at most one organisation; only verified ones route sign-in.

    Verification is a platform fact about one name in one organisation: renaming a domain or moving it to
    another organisation un-verifies it, whoever saves the change (a platform admin verifies it again).
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(max_length=253, unique=True, help_text="e.g. acme.com (lower case, no @)")
    verified = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # DNS proof (jeto_identity.orgadmin.domains): the TXT record _jeto-challenge.<domain> must hold this value.
    verification_token = models.CharField(max_length=64, blank=True, editable=False)
    verified_at = models.DateTimeField(null=True, blank=True, editable=False)
    verification_method = models.CharField(max_length=16, blank=True, editable=False, help_text="dns or manual")
    last_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_check_result = models.CharField(max_length=300, blank=True, editable=False)

    # Set by save(): True when that save un-verified the domain (the admin tells a platform admin so).
    verification_reset: bool = False

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.domain = self.normalize(self.domain)
        moved = self._ownership_changes(kwargs.get("update_fields"))
        self.verification_reset = self.verified and moved
        if self.verification_reset:
            self.verified = False
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "verified"}
        if not self.verification_token or moved:
            # A new name or organisation needs a new proof: a record published for the old one proves nothing.
            self.verification_token = new_verification_token()
            self.verified_at = None
            self.verification_method = ""
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {
                    *kwargs["update_fields"], "verification_token", "verified_at", "verification_method"
                }
        super().save(*args, **kwargs)
        forget_verified_domain_owners()

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        result = super().delete(*args, **kwargs)
        forget_verified_domain_owners()
        return result

    @staticmethod
    def normalize(domain: str) -> str:
        return (domain or "").strip().lower().lstrip("@")

    def clean_fields(self, exclude: Any = None) -> None:
        # Before validation, so the uniqueness check sees the stored form ("ACME.test" is "acme.test": a 400, not
        # an IntegrityError at save).
        self.domain = self.normalize(self.domain)
        super().clean_fields(exclude=exclude)

    def _ownership_changes(self, update_fields: Iterable[str] | None) -> bool:
        """Does this save write a new name or organisation over a stored row?"""
        if self._state.adding or self.pk is None:
            return False
        named = None if update_fields is None else {f.removesuffix("_id") for f in update_fields}
        written = set(OWNERSHIP_FIELDS) if named is None else set(OWNERSHIP_FIELDS) & named
        if not written:
            return False
        stored = type(self)._default_manager.filter(pk=self.pk).values("domain", "organization").first()
        if stored is None:
            return False
        return ("domain" in written and stored["domain"] != self.domain) or (
            "organization" in written and stored["organization"] != self.organization_id
        )


OWNERSHIP_FIELDS = ("domain", "organization")


def new_verification_token() -> str:
    """The value a domain's owner publishes in ``_jeto-challenge.<domain>`` (128 random bits)."""
    return "jeto-verification=" + secrets.token_urlsafe(16)


# ---- which organisation owns an email domain -------------------------------------------------------------------

_OWNERS_MEMO = "_jeto_verified_domain_owners"


def verified_domain_owner(domain: str) -> Organization | None:
    """The organisation whose *verified* domain this is, or None.

    A sign-in asks several times (the SSO router, the password step's "enforce SSO" check, the audit event's
    organisation); the answer is read once per request and remembered on the request being served. Saving or
    deleting a domain or an organisation in the request forgets it.
    """
    from jeto_identity.core.middleware import current_request

    domain = OrganizationDomain.normalize(domain)
    if not domain:
        return None
    request = current_request()
    memo: dict[str, Organization | None] | None = getattr(request, _OWNERS_MEMO, None)
    if memo is not None and domain in memo:
        return memo[domain]
    owner = next(iter(Organization.objects.raw(sql.written_once("domain_owner", _owner_sql), [domain])), None)
    if request is not None:
        if memo is None:
            memo = {}
            setattr(request, _OWNERS_MEMO, memo)
        memo[domain] = owner
    return owner


def _owner_sql(quote: sql.Quote) -> str:
    """The organisation owning a verified domain (the domain column is unique: at most one row)."""
    org, domain = Organization, OrganizationDomain
    return (
        f"SELECT {sql.columns(org, 'o', quote)} FROM {quote(org._meta.db_table)} o"  # noqa: S608 - names from _meta
        f" INNER JOIN {quote(domain._meta.db_table)} d ON d.{sql.column(domain, 'organization', quote)}"
        f" = o.{quote(org._meta.pk.column)} WHERE d.{sql.column(domain, 'domain', quote)} = %s"
        f" AND d.{sql.column(domain, 'verified', quote)}"
    )


# ---- the organisations a sign-in has just read --------------------------------------------------------------

_SIGN_IN_ORGANIZATIONS = "jeto_sign_in_organizations"


def remember_sign_in_organizations(request: Any, user: Any, organizations: Iterable[Organization]) -> None:
    """The sign-in stage read every organisation of ``user``; the sign-in's audit event may use them.
    A membership saved or deleted later in the request forgets them (``core.receivers``)."""
    setattr(request, _SIGN_IN_ORGANIZATIONS, (str(user.pk), tuple(organizations)))


def sign_in_organizations(request: Any, user: Any) -> tuple[Organization, ...] | None:
    """What ``remember_sign_in_organizations`` kept for this user in this request, or None."""
    kept = getattr(request, _SIGN_IN_ORGANIZATIONS, None)
    return kept[1] if kept is not None and kept[0] == str(getattr(user, "pk", "")) else None


def forget_sign_in_organizations() -> None:
    from jeto_identity.core.middleware import current_request

    request = current_request()
    if request is not None and hasattr(request, _SIGN_IN_ORGANIZATIONS):
        delattr(request, _SIGN_IN_ORGANIZATIONS)


def forget_verified_domain_owners() -> None:
    from jeto_identity.core.middleware import current_request

    request = current_request()
    if request is not None and hasattr(request, _OWNERS_MEMO):
        delattr(request, _OWNERS_MEMO)
