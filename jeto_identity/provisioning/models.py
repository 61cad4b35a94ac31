"""SCIM 2.0 provisioning: an organisation's bearer tokens and what its IdP provisioned (users, groups).

A ``ScimUser`` is the organisation's record of one provisioned person: the IdP's ``externalId``, its own
``active`` flag and the account it maps to. It never stands for an account outside the organisation's reach;
the rules live in ``policy.py`` (docs/security.md, "SCIM provisioning").
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower


class ScimToken(models.Model):
    """A per-organisation bearer token. Only a keyed hash is stored; the token is shown once."""

    organization = models.ForeignKey("jeto_identity.Organization", on_delete=models.CASCADE, related_name="scim_tokens")
    name = models.CharField(max_length=100, help_text="Where it is used, e.g. “Okta production”.")
    token_hash = models.CharField(max_length=128, unique=True, editable=False)
    prefix = models.CharField(max_length=16, editable=False, help_text="The token's first characters.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["organization__name", "name"]
        verbose_name = "SCIM token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def __repr__(self) -> str:
        return f"<ScimToken {self.pk} {self.prefix!r}>"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ScimUser(models.Model):
    """One person the organisation's IdP provisioned: its SCIM ``id`` and the account it maps to."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("jeto_identity.Organization", on_delete=models.CASCADE, related_name="scim_users")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="scim_records")
    user_name = models.CharField(max_length=254, help_text="The IdP's userName (an email address).")
    external_id = models.CharField(max_length=255, blank=True, default="")
    display_name = models.CharField(max_length=255, blank=True, default="")
    active = models.BooleanField(
        null=True, default=True, help_text="What the IdP last said (unset counts as active; only false deactivates)."
    )
    attributes = models.JSONField(
        default=dict, blank=True, help_text="The other attributes the IdP sent (title, phone numbers...), as sent."
    )
    email_values = models.TextField(
        blank=True, default="", editable=False, help_text="The emails' values, lower-cased, for emails.value filters."
    )
    managed = models.BooleanField(
        default=False,
        editable=False,
        help_text="The account is this organisation's alone: SCIM keeps its profile and active flag. Otherwise "
        "SCIM changes only the membership in this organisation.",
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organization__name", "user_name"]
        verbose_name = "SCIM user"
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="jeto_scimuser_org_user_unique"),
            models.UniqueConstraint("organization", Lower("user_name"), name="jeto_scimuser_org_username_ci_unique"),
        ]
        indexes = [models.Index(fields=["organization", "external_id"], name="jeto_scimuser_org_extid")]

    def __str__(self) -> str:
        return self.user_name


class ScimGroup(models.Model):
    """A group the IdP pushed: a named group the org admin sees in Django admin."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("jeto_identity.Organization", on_delete=models.CASCADE, related_name="scim_groups")
    display_name = models.CharField(max_length=255)
    external_id = models.CharField(max_length=255, blank=True, default="")
    members = models.ManyToManyField(ScimUser, blank=True, related_name="groups")
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organization__name", "display_name"]
        verbose_name = "SCIM group"
        constraints = [
            models.UniqueConstraint("organization", Lower("display_name"), name="jeto_scimgroup_org_name_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.display_name
