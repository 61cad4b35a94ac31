from __future__ import annotations

from django.db import models
from django.utils import timezone


class AuditEvent(models.Model):
    """One security-relevant event. Append-only: written by ``services.audit.record``, never edited.

    People and organisations are kept as id + label, not foreign keys: the log must outlive the rows it
    mentions (a deleted user's sign-ins stay answerable) and writing it must never fail because a cascade
    deleted its subject in the same transaction.
    """

    class Outcome(models.TextChoices):
        SUCCESS = "success", "Success"
        FAILURE = "failure", "Failure"
        DENIED = "denied", "Denied"

    time = models.DateTimeField(default=timezone.now, db_index=True)
    event = models.CharField(max_length=64, db_index=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.SUCCESS)
    actor_id = models.UUIDField(null=True, blank=True, help_text="The user who acted (signed in, changed, ...).")
    actor = models.CharField(max_length=254, blank=True, help_text="Their email at the time.")
    organization_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    organization = models.CharField(max_length=200, blank=True, help_text="Its name at the time.")
    subject_id = models.UUIDField(null=True, blank=True, db_index=True, help_text="The user the event is about.")
    subject = models.CharField(max_length=254, blank=True, help_text="Email, client ID or object acted on.")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=256, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-time", "-id"]
        verbose_name = "audit event"
        indexes = [models.Index(fields=["organization_id", "-time"], name="jeto_audit_org_time")]

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M:%S} {self.event} {self.subject or self.actor}".strip()
