"""Single sign-on: an organisation's own OpenID Provider, and the identities it has linked to our users."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from jeto_identity.core import crypto
from jeto_identity.core.organizations import Organization, Role

DEFAULT_SCOPES = "openid email profile"
DISCOVERY_SUFFIX = "/.well-known/openid-configuration"

# Roles an IdP may grant. Ownership is only ever handed over by an owner, in admin.
PROVISIONABLE_ROLES = [(Role.MEMBER.value, Role.MEMBER.label), (Role.ADMIN.value, Role.ADMIN.label)]


def normalize_issuer(value: str) -> str:
    """Accept an issuer or its discovery URL; return the issuer (no trailing slash, no discovery suffix)."""
    value = (value or "").strip()
    if value.endswith(DISCOVERY_SUFFIX):
        value = value[: -len(DISCOVERY_SUFFIX)]
    return value.rstrip("/")


class SSOConnection(models.Model):
    """One organisation's OpenID Provider (Okta, Entra ID, Google Workspace, Keycloak, …)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="sso_connections")
    name = models.CharField(max_length=100, help_text="Shown to you only, e.g. “Okta production”.")
    issuer = models.URLField(
        "issuer",
        max_length=500,
        help_text="The IdP's issuer, or its discovery URL (ending in /.well-known/openid-configuration).",
    )
    client_id = models.CharField("client ID", max_length=255)
    client_secret_encrypted = models.TextField(editable=False, blank=True)
    scopes = models.CharField(
        max_length=300, default=DEFAULT_SCOPES, help_text="Space-separated; must include openid and email."
    )
    enabled = models.BooleanField(
        default=False,
        help_text="Send this organisation's members to the IdP. Turn on after “Test connection” succeeds.",
    )
    jit_provisioning = models.BooleanField(
        "just-in-time provisioning",
        default=True,
        help_text="Create an account (and membership) on a person's first sign-in through the IdP.",
    )
    default_role = models.CharField(max_length=16, choices=PROVISIONABLE_ROLES, default=Role.MEMBER)
    email_verified_claim = models.CharField(
        max_length=100,
        default="email_verified",
        help_text="Claim in which the IdP asserts the email is verified. Entra ID: xms_edov (add it as an "
        "optional claim). Existing accounts are only linked when this claim is true.",
    )
    role_claim = models.CharField(
        max_length=100, blank=True, help_text="Claim carrying groups or roles, e.g. groups. Empty: no mapping."
    )
    role_mapping = models.JSONField(
        default=dict,
        blank=True,
        help_text='Claim value → role, e.g. {"jeto-admins": "admin"}. Roles: member, admin. With a role claim '
        "set, the role is updated at every sign-in; no match gives the default role. Owners are never changed.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "SSO connection"
        ordering = ["organization__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(enabled=True),
                name="jeto_sso_one_enabled_connection_per_org",
                violation_error_message="This organisation already has an enabled SSO connection.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.organization})"

    def save(self, *args: object, **kwargs: object) -> None:
        self.issuer = normalize_issuer(self.issuer)
        super().save(*args, **kwargs)

    @property
    def discovery_url(self) -> str:
        return self.issuer + DISCOVERY_SUFFIX

    @property
    def has_client_secret(self) -> bool:
        return bool(self.client_secret_encrypted)

    def set_client_secret(self, secret: str) -> None:
        self.client_secret_encrypted = crypto.encrypt(secret) if secret else ""

    def get_client_secret(self) -> str:
        """The plain secret, for the token request only. Raises ``crypto.DecryptionError`` on a key mismatch."""
        return crypto.decrypt(self.client_secret_encrypted) if self.client_secret_encrypted else ""

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()


class FederatedIdentity(models.Model):
    """A person at an IdP (the connection's ``sub``) linked to one of our users. Never matched on email alone."""

    connection = models.ForeignKey(SSOConnection, on_delete=models.CASCADE, related_name="identities")
    subject = models.CharField("subject (sub)", max_length=255)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="federated_identities")
    email = models.EmailField(max_length=254, blank=True, help_text="As the IdP last asserted it.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "federated identity"
        verbose_name_plural = "federated identities"
        ordering = ["connection", "email"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "subject"], name="jeto_fedid_unique_subject"),
            models.UniqueConstraint(fields=["connection", "user"], name="jeto_fedid_one_per_user_per_connection"),
        ]

    def __str__(self) -> str:
        return f"{self.user} via {self.connection.name}"
