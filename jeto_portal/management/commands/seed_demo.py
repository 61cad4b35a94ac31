"""Demo data for a first run. Idempotent: running it again resets the demo passwords and adds nothing twice."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from jeto_identity.models import Membership, Organization, OrganizationDomain, Plan, Role, User

DEMO_PASSWORD = "correct-horse-battery-staple"

USERS = [
    # email, first, last, staff, superuser
    ("admin@jeto.test", "Platform", "Admin", True, True),
    ("ada@acme.test", "Ada", "Admin", True, False),
    ("max@acme.test", "Max", "Member", False, False),
    ("gina@globex.test", "Gina", "Globex", True, False),
]
ORGS = [
    # slug, name, domain, [(email, role)]
    ("acme", "Acme", "acme.test", [("ada@acme.test", Role.OWNER), ("max@acme.test", Role.MEMBER)]),
    ("globex", "Globex", "globex.test", [("gina@globex.test", Role.OWNER)]),
]
DEMO_PLAN = {"sso": True, "mfa_policy": True, "api_clients": True, "scim": True}


class Command(BaseCommand):
    help = "Create (or refresh) the demo organisations and users, and print how to sign in."

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            users = {}
            for email, first, last, staff, superuser in USERS:
                user, _ = User.objects.get_or_create(email=email)
                user.first_name, user.last_name = first, last
                user.is_staff, user.is_superuser, user.is_active = staff, superuser, True
                user.email_verified = True
                user.set_password(DEMO_PASSWORD)
                user.save()
                users[email] = user
            for slug, name, domain, members in ORGS:
                org, _ = Organization.objects.get_or_create(slug=slug, defaults={"name": name})
                OrganizationDomain.objects.update_or_create(
                    domain=domain, defaults={"organization": org, "verified": True}
                )
                for email, role in members:
                    Membership.objects.update_or_create(user=users[email], organization=org, defaults={"role": role})
                # The demo organisations' plan includes everything (SSO, MFA policy, application connections, SCIM).
                Plan.objects.update_or_create(organization=org, defaults=DEMO_PLAN)
            extra_lines = self.seed_extras()
        self.stdout.write(self.style.SUCCESS("Demo data ready. Every demo account's password is:"))
        self.stdout.write(f"  {DEMO_PASSWORD}")
        self.stdout.write("Accounts:")
        self.stdout.write("  admin@jeto.test   platform superuser       (/admin/ sees everything)")
        self.stdout.write("  ada@acme.test     Acme owner, staff        (/admin/ sees Acme only)")
        self.stdout.write("  max@acme.test     Acme member              (/account/)")
        self.stdout.write("  gina@globex.test  Globex owner, staff      (/admin/ sees Globex only)")
        for line in extra_lines:
            self.stdout.write(line)

    def seed_extras(self) -> list[str]:
        """Hook for later features (demo relying party, API client); returns lines to print."""
        from jeto_portal import demo_relying_party
        from jeto_portal.api.demo import seed_demo_client  # application connections

        return [*demo_relying_party.seed(), *seed_demo_client()]
