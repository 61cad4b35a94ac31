from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Lockout(models.Model):
    """An index of current lockouts for the admin; the counters themselves live in the cache (Redis).

    django-axes' cache handler keys its counters by hashes, which cannot be listed; this row is written when a
    lockout starts and removed when an admin clears it (or by the cleanup command once it has expired).
    """

    username = models.CharField(max_length=254, blank=True, db_index=True, help_text="Email or throttle key.")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    failures = models.PositiveIntegerField(default=0)
    locked_at = models.DateTimeField(default=timezone.now)
    locked_until = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-locked_at"]
        constraints = [models.UniqueConstraint(fields=["username", "ip_address"], name="jeto_lockout_unique")]

    def __str__(self) -> str:
        return f"{self.username or '-'} from {self.ip_address or '-'}"

    @property
    def active(self) -> bool:
        return self.locked_until > timezone.now()
