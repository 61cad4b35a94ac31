"""Single sign-on: an organisation's own IdP (OpenID Connect or SAML 2.0), and the identities it linked to our users.

One table holds both kinds of connection (``protocol``), so routing, "enforce SSO", the one-enabled-connection rule
and the links (``FederatedIdentity``) are the same for both. The SAML-only columns start with ``saml_``;
``SAMLConnection`` is a proxy over the SAML rows, with its own admin page.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from jeto_identity.core import crypto
from jeto_identity.core.organizations import Organization, Role

DEFAULT_SCOPES = "openid email profile"
DISCOVERY_SUFFIX = "/.well-known/openid-configuration"

OIDC = "oidc"
SAML = "saml"
PROTOCOLS = [(OIDC, "OpenID Connect"), (SAML, "SAML 2.0")]

NAMEID_PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
NAMEID_EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
NAMEID_UNSPECIFIED = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
NAMEID_FORMATS = [
    (NAMEID_PERSISTENT, "Persistent (an opaque, stable ID: recommended)"),
    (NAMEID_EMAIL, "Email address"),
    (NAMEID_UNSPECIFIED, "Unspecified (the IdP chooses)"),
]

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
    protocol = models.CharField(max_length=8, choices=PROTOCOLS, default=OIDC, editable=False)
    issuer = models.URLField(
        "issuer",
        max_length=500,
        blank=True,
        help_text="The IdP's issuer, or its discovery URL (ending in /.well-known/openid-configuration).",
    )
    client_id = models.CharField("client ID", max_length=255, blank=True)
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
    # ---- SAML 2.0 only (jeto_identity.sso.saml) ----
    saml_metadata_url = models.URLField(
        "IdP metadata URL",
        max_length=1000,
        blank=True,
        help_text="Where your IdP publishes its SAML metadata. Fetched on save, then refreshed regularly "
        "(certificate rollover is picked up by itself).",
    )
    saml_metadata_xml = models.TextField(
        "IdP metadata XML",
        blank=True,
        help_text="Or paste (or upload) the IdP's metadata XML. Filled in from the URL when one is set.",
    )
    saml_metadata_fetched_at = models.DateTimeField(null=True, blank=True, editable=False)
    saml_idp_entity_id = models.CharField(
        "IdP entity ID",
        max_length=1000,
        blank=True,
        help_text="The IdP's entity ID (issuer). Read from the metadata when there is some; otherwise enter it "
        "with the SSO URL and certificate by hand.",
    )
    saml_idp_sso_url = models.URLField(
        "IdP single sign-on URL",
        max_length=1000,
        blank=True,
        help_text="HTTP-Redirect binding. Only without metadata.",
    )
    saml_idp_certificates = models.TextField(
        "IdP signing certificates",
        blank=True,
        help_text="PEM, one or more (during a certificate rollover, paste both). Only without metadata.",
    )
    saml_sp_certificate = models.TextField(editable=False, blank=True)
    saml_sp_key_encrypted = models.TextField(editable=False, blank=True)
    saml_sign_requests = models.BooleanField(
        "sign authentication requests",
        default=True,
        help_text="Sign our AuthnRequests (give the IdP our certificate: it is in our metadata).",
    )
    saml_nameid_format = models.CharField(
        "NameID format", max_length=100, choices=NAMEID_FORMATS, default=NAMEID_PERSISTENT
    )
    saml_attribute_mapping = models.JSONField(
        "attribute mapping",
        default=dict,
        blank=True,
        help_text='Our field → the IdP’s attribute name(s), e.g. {"email": ["mail"], "groups": ["memberOf"]}. '
        "Fields: email, given_name, family_name, groups. Empty fields use the defaults for Entra ID, Okta, "
        "Google Workspace, AD FS and Keycloak.",
    )
    saml_trust_email = models.BooleanField(
        "trust the IdP's email addresses",
        default=True,
        help_text="Treat the email address the IdP asserts as verified (its directory owns your verified domain). "
        "Existing accounts are only linked when this is on.",
    )
    saml_allow_idp_initiated = models.BooleanField(
        "allow IdP-initiated sign-in",
        default=False,
        help_text="Accept responses we didn't ask for (sign-in from the IdP's app portal). Off is safer: read "
        "the risks in the SSO admin guide first.",
    )
    saml_allow_sha1 = models.BooleanField(
        "allow SHA-1 signatures",
        default=False,
        help_text="For a legacy IdP that can't sign with SHA-256. SHA-1 signatures can be forged: leave off.",
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
        if self.protocol == OIDC:
            self.issuer = normalize_issuer(self.issuer)
        super().save(*args, **kwargs)

    @property
    def is_saml(self) -> bool:
        return self.protocol == SAML

    def idp_identity(self) -> list[object]:
        """What makes this connection's subjects meaningful: a link made under other values must not be used."""
        if self.is_saml:
            return [self.protocol, self.saml_idp_entity_id, self.organization_id]
        return [self.issuer, self.client_id, self.organization_id]

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


class SAMLConnectionManager(models.Manager):
    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().filter(protocol=SAML)


class SAMLConnection(SSOConnection):
    """The SAML 2.0 rows of ``SSOConnection`` (their own admin page and form)."""

    objects = SAMLConnectionManager()

    class Meta:
        proxy = True
        verbose_name = "SAML connection"

    def save(self, *args: object, **kwargs: object) -> None:
        from jeto_identity.sso.saml.keys import ensure_keypair

        self.protocol = SAML
        ensure_keypair(self)
        super().save(*args, **kwargs)


class FederatedIdentity(models.Model):
    """A person at an IdP (the connection's ``sub``) linked to one of our users. Never matched on email alone."""

    connection = models.ForeignKey(SSOConnection, on_delete=models.CASCADE, related_name="identities")
    subject = models.CharField("subject (sub or NameID)", max_length=255)
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
