"""What a platform admin switched on for an organisation (its plan), and the invitations its admins send."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from jeto_identity.core.organizations import Organization, Role


class Plan(models.Model):
    """One organisation's entitlements. Edited by platform admins only; read through ``orgadmin.plans``.

    An organisation without a row has ``JETO_IDENTITY["DEFAULT_PLAN"]``. Switching a feature off deletes nothing:
    the services stop using what it covers (``plans.is_entitled``), see docs/admins.md.
    """

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="plan")
    sso = models.BooleanField("single sign-on", default=False, help_text="OIDC and SAML connections route sign-in.")
    mfa_policy = models.BooleanField(
        "MFA policy", default=False, help_text="The organisation's admins may require MFA of every member."
    )
    api_clients = models.BooleanField(
        "application connections",
        default=False,
        help_text="Client-credentials clients get tokens. Approving the API Integrations programme turns it on; "
        "declining or suspending turns it off.",
    )
    scim = models.BooleanField("SCIM provisioning", default=False)
    max_sso_connections = models.PositiveIntegerField(
        "SSO connections (cap)", null=True, blank=True, help_text="Empty: no cap."
    )
    max_api_clients = models.PositiveIntegerField(
        "application connections (cap)", null=True, blank=True, help_text="Empty: no cap."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "plan"
        ordering = ["organization__name"]

    def __str__(self) -> str:
        return f"Plan of {self.organization}"


class InvitationQuerySet(models.QuerySet):
    def pending(self, now=None) -> InvitationQuerySet:
        now = now or timezone.now()
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now)


class Invitation(models.Model):
    """An org admin's invitation of an email address to join with a role.

    The link carries the row's ID and a random secret, signed (``django.core.signing``); the row keeps only the
    secret's SHA-256. Single use (``accepted_at``), revocable (``revoked_at``), and resending replaces the secret, so
    an older link stops working.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(max_length=254)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_sent_at = models.DateTimeField(null=True, blank=True)
    send_count = models.PositiveIntegerField(default=0)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One open invitation per address and organisation: inviting again resends it.
            models.UniqueConstraint(
                fields=["organization", "email"],
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="jeto_invitation_one_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} to {self.organization}"

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"
