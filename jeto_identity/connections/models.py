from __future__ import annotations

from typing import NoReturn

from django.conf import settings
from django.db import models
from oauth2_provider.models import AbstractApplication, ApplicationManager


class OAuthClient(AbstractApplication):
    """Every OAuth client: relying parties (authorization code) and application connections (client credentials).

    django-oauth-toolkit's swappable application model (``OAUTH2_PROVIDER_APPLICATION_MODEL``). Application
    connections belong to one organisation; relying parties are registered by platform admins and have none.
    """

    organization = models.ForeignKey(
        "jeto_identity.Organization",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="oauth_clients",
    )
    description = models.TextField(blank=True)
    allowed_scopes = models.CharField(
        max_length=500, blank=True, help_text="Space-separated scopes this client may be granted."
    )
    access_token_lifetime = models.PositiveIntegerField(
        null=True, blank=True, help_text="Seconds; empty uses the server default."
    )
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    # Rotation (application connections): the previous secret's hash stays valid until the grace period ends.
    previous_client_secret = models.CharField(max_length=255, blank=True, default="", editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    secret_rotated_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApplicationManager()

    class Meta(AbstractApplication.Meta):
        verbose_name = "OAuth client"
        ordering = ["name"]

    def __repr__(self) -> str:
        # Never the secret (or its hash): reprs end up in tracebacks and logs.
        return f"<{type(self).__name__} {self.pk} {self.client_id!r}>"

    @property
    def get_absolute_url(self) -> NoReturn:
        """Clients have no page of their own: DOT's inherited method reverses its application views, which are
        not mounted (a 500 from the admin's "view on site" redirector). Raising AttributeError makes
        ``hasattr(client, "get_absolute_url")`` false, so the admin offers no link and the redirector answers 404.
        """
        raise AttributeError("OAuth clients have no page outside the admin.")

    def is_usable(self, request: object) -> bool:
        """DOT asks this before issuing a token and when validating one: a disabled client can do neither."""
        return self.enabled

    @property
    def is_application_connection(self) -> bool:
        return self.authorization_grant_type == self.GRANT_CLIENT_CREDENTIALS and self.organization_id is not None


class ApplicationConnectionManager(ApplicationManager):
    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .filter(authorization_grant_type=AbstractApplication.GRANT_CLIENT_CREDENTIALS, organization__isnull=False)
        )


class ApplicationConnection(OAuthClient):
    """An organisation's client-credentials client, as org admins see it in Django admin."""

    objects = ApplicationConnectionManager()

    class Meta:
        proxy = True
        verbose_name = "application connection"
        ordering = ["name"]


class ProgrammeApplication(models.Model):
    """An organisation's application to the API Integrations programme, and the platform's decision on it.

    Approval switches application connections on in the organisation's plan; declining or suspending switches them
    off (``connections.programme``). One open application (pending, approved or suspended) per organisation.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"
        SUSPENDED = "suspended", "Suspended"

    OPEN = (Status.PENDING, Status.APPROVED, Status.SUSPENDED)

    organization = models.ForeignKey(
        "jeto_identity.Organization", on_delete=models.CASCADE, related_name="programme_applications"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    purpose = models.TextField(help_text="What the integration does and why it needs the Jeto API.")
    contact_name = models.CharField(max_length=200)
    contact_email = models.EmailField(max_length=254)
    expected_usage = models.CharField(
        max_length=500, help_text="e.g. “2 applications, about 5,000 calls a day”."
    )
    terms_version = models.CharField(max_length=64, help_text="Digest of the programme terms the applicant accepted.")
    terms_accepted_at = models.DateTimeField()
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)

    class Meta:
        verbose_name = "API Integrations programme application"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization"],
                condition=models.Q(status__in=["pending", "approved", "suspended"]),
                name="jeto_programme_one_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization} ({self.get_status_display()})"
