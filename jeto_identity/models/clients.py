from __future__ import annotations

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

    objects = ApplicationManager()

    class Meta(AbstractApplication.Meta):
        verbose_name = "OAuth client"
        ordering = ["name"]
