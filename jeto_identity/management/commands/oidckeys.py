"""Inspect, generate and rotate the ID-token signing keys (docs/key-rotation.md)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.utils import jwk_from_pem

from jeto_identity.provider import keys


class Command(BaseCommand):
    help = "Show the OIDC signing keys, print a new one, or rotate the key directory."
    # Creating the first key must work while the missing key is still a system-check error (E301).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("show", help="Key IDs (kid) of the current and previous keys, and where they come from.")
        sub.add_parser("generate", help="Print a new RSA private key (PEM) for a secret store. Changes nothing.")
        rotate = sub.add_parser("rotate", help="In OIDC_KEY_DIR: make a new current key; the old one becomes previous.")
        rotate.add_argument("--dir", default=None, help="Key directory (default: OIDC_KEY_DIR).")
        rotate.add_argument("--keep", type=int, default=1, help="How many previous keys to keep publishing.")
        prune = sub.add_parser(
            "prune", help="In OIDC_KEY_DIR: stop publishing all but the newest --keep previous keys."
        )
        prune.add_argument("--dir", default=None)
        prune.add_argument("--keep", type=int, default=0)

    def handle(self, *args, **options) -> None:
        action = options["action"]
        if action == "show":
            self._show()
        elif action == "generate":
            self.stdout.write(keys.generate_private_key_pem(), ending="")
        else:
            directory = options["dir"] or getattr(settings, "OIDC_KEY_DIR", "")
            if not directory:
                raise CommandError(
                    "No key directory: pass --dir or set OIDC_KEY_DIR. With keys in environment variables, "
                    "use `oidckeys generate` and follow docs/key-rotation.md."
                )
            if action == "rotate":
                result = keys.rotate_key_dir(directory, keep=options["keep"])
                self.stdout.write(
                    f"New current key {self._kid(result.current)}; publishing {len(result.previous)} "
                    "previous key(s). Restart or reload every web process to start signing with it."
                )
            else:
                removed = keys.prune_key_dir(directory, keep=options["keep"])
                self.stdout.write(f"Removed {len(removed)} previous key(s). Reload every web process.")

    @staticmethod
    def _kid(pem: str) -> str:
        return jwk_from_pem(pem).thumbprint()

    def _show(self) -> None:
        current = oauth2_settings.OIDC_RSA_PRIVATE_KEY
        if not current:
            raise CommandError("No signing key configured.")
        self.stdout.write(f"current   {self._kid(current)}  (signs new ID tokens)")
        for pem in oauth2_settings.OIDC_RSA_PRIVATE_KEYS_INACTIVE:
            self.stdout.write(f"previous  {self._kid(pem)}  (published for verification only)")
