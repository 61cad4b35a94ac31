"""Look up the DNS challenge of every unverified domain (run it every few minutes from cron or a scheduler)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from jeto_identity.orgadmin import domains


class Command(BaseCommand):
    help = "Verify domains whose _jeto-challenge TXT record now holds their value."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--domain", action="append", default=[], help="Only this domain (repeatable).")

    def handle(self, *args, **options) -> None:
        rows = domains.pending_domains()
        if options["domain"]:
            rows = rows.filter(domain__in=[d.strip().lower() for d in options["domain"]])
        verified = checked = 0
        for row in rows:
            result = domains.check(row)
            checked += 1
            verified += result.verified
            self.stdout.write(f"{row.domain} ({row.organization.name}): {result.code}")
        self.stdout.write(f"{verified} of {checked} pending domain(s) verified.")
