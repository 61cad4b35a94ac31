from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from oauth2_provider.models import AbstractApplication, ApplicationManager

from jeto_identity.connections.models import OAuthClient


def code_hash(code: str) -> str:
    """Authorization codes are looked up by SHA-256, never stored in clear here."""
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


class RelyingPartyManager(ApplicationManager):
    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().filter(authorization_grant_type=AbstractApplication.GRANT_AUTHORIZATION_CODE)


class RelyingParty(OAuthClient):
    """An application that signs users in with the authorization code flow (OIDC). Registered by platform admins."""

    objects = RelyingPartyManager()

    class Meta:
        proxy = True
        verbose_name = "relying party"
        verbose_name_plural = "relying parties"


class AuthenticationContext(models.Model):
    """How and when the user authenticated when an authorization code was issued.

    The ID token is minted at the token endpoint, which has no browser session, so ``amr`` and ``auth_time``
    are captured at the authorization endpoint and follow the code's token family through refreshes. The code
    hash also lets a replayed code revoke everything its first redemption issued (RFC 6749 section 4.1.2).
    """

    code_hash = models.CharField(max_length=64, unique=True)
    application = models.ForeignKey(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    auth_time = models.DateTimeField()
    amr = models.JSONField(default=list, blank=True)
    token_family = models.UUIDField(null=True, blank=True, db_index=True)
    redeemed_at = models.DateTimeField(null=True, blank=True)
    # The signed-in session that authorised the code: ending that session revokes this token family.
    session = models.ForeignKey(
        "jeto_identity.UserSession",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_constraint=False,  # written from the session's id without reading the row first
        related_name="authentication_contexts",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "OIDC authentication context"

    def __str__(self) -> str:
        return f"Authentication #{self.pk}"
