"""Register a relying party from a script; prints its client ID and secret as JSON (the only time the secret
is shown)."""

from __future__ import annotations

import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from jeto_identity.conf import jeto_settings
from jeto_identity.provider import relying_parties


class Command(BaseCommand):
    help = "Register an OpenID Connect relying party (authorization code + PKCE) and print its credentials as JSON."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--redirect-uri", action="append", required=True, dest="redirect_uris", help="Repeat for several."
        )
        parser.add_argument("--post-logout-redirect-uri", action="append", default=[], dest="post_logout_uris")
        parser.add_argument("--public", action="store_true", help="A browser/mobile app: no secret, PKCE only.")
        parser.add_argument("--trusted", action="store_true", help="First-party: skip the consent page.")
        parser.add_argument("--client-id", default=None, help="Use this client ID instead of a random one.")

    def handle(self, *args, **options) -> None:
        try:
            registration = relying_parties.register(
                name=options["name"],
                redirect_uris=options["redirect_uris"],
                post_logout_redirect_uris=options["post_logout_uris"],
                client_type=relying_parties.PUBLIC if options["public"] else relying_parties.CONFIDENTIAL,
                trusted=options["trusted"],
                client_id=options["client_id"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        client = registration.client
        issuer = jeto_settings.ISSUER or getattr(settings, "JETO_ISSUER", "")
        output = {
            "client_id": client.client_id,
            "client_secret": registration.client_secret or None,
            "client_type": client.client_type,
            "trusted": client.skip_authorization,
            "redirect_uris": client.redirect_uris.split(),
            "post_logout_redirect_uris": client.post_logout_redirect_uris.split(),
            "discovery_url": f"{issuer}/.well-known/openid-configuration" if issuer else None,
        }
        self.stdout.write(json.dumps(output, indent=2))
