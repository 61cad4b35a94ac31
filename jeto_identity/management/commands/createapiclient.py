"""``manage.py createapiclient --org SLUG --name NAME --scope "org:read members:read"``: scripted setup.

Prints ``{"client_id": ..., "client_secret": ..., ...}`` as JSON on stdout, the only time the secret is shown.
"""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from jeto_identity.connections import services as clients
from jeto_identity.models import Organization


class Command(BaseCommand):
    help = "Issue an application connection (client-credentials client) for an organisation; prints JSON."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--org", required=True, help="Organisation slug.")
        parser.add_argument("--name", required=True)
        parser.add_argument("--scope", required=True, help=f"Space-separated: {' '.join(clients.api_scopes())}")
        parser.add_argument("--description", default="")
        parser.add_argument("--token-lifetime", type=int, default=None, help="Seconds (default: server's).")

    def handle(self, *args, **options) -> None:
        try:
            org = Organization.objects.get(slug=options["org"])
        except Organization.DoesNotExist:
            raise CommandError(f"No organisation with slug {options['org']!r}.") from None
        try:
            issued = clients.issue_client(
                organization=org,
                name=options["name"],
                scopes=options["scope"],
                description=options["description"],
                access_token_lifetime=options["token_lifetime"],
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        payload = {
            "client_id": issued.client_id,
            "client_secret": issued.client_secret,
            "organization": org.slug,
            "scope": issued.client.allowed_scopes,
            "token_endpoint": "/o/token/",
        }
        self.stdout.write(json.dumps(payload))
