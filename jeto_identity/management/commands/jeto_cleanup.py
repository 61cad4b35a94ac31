"""``manage.py jeto_cleanup``: expired tokens/grants, audit events past retention, stale lockout rows, ended
sessions of the session registry.

Safe to run from cron on every node at once: batches are small and idempotent. Example:
``manage.py jeto_cleanup --batch-size 5000 --pause 0.05``.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from jeto_identity.core import cleanup

KINDS = ("tokens", "audit", "lockouts", "sessions")


class Command(BaseCommand):
    help = "Delete expired OAuth tokens and grants, old audit events and expired lockouts, in small batches."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--batch-size", type=int, default=cleanup.DEFAULT_BATCH_SIZE)
        parser.add_argument("--pause", type=float, default=0.0, help="Seconds to sleep between batches.")
        parser.add_argument("--only", choices=KINDS, action="append", help="Limit to these kinds (repeatable).")

    def handle(self, *args, batch_size: int, pause: float, only: list[str] | None, **options) -> None:
        if batch_size < 1:
            batch_size = 1
        kinds = only or list(KINDS)
        work = []
        if "tokens" in kinds:
            work += list(cleanup.expired_token_querysets())
        if "audit" in kinds:
            events = cleanup.old_audit_events()
            if events is None:
                self.stdout.write("audit events: retention is 0 (keep forever)")
            else:
                work.append(("audit events past retention", events, None))
        if "lockouts" in kinds:
            work.append(("expired lockout rows", cleanup.expired_lockouts(), None))
        if "sessions" in kinds:
            work.append(("ended or stale session-registry rows", cleanup.stale_sessions(), None))
        for label, queryset, raw in work:
            deleted = cleanup.delete_in_batches(queryset, batch_size=batch_size, pause=pause, raw=raw)
            self.stdout.write(f"{label}: {deleted} deleted")
