"""``manage.py jeto_rotate_keys``: re-encrypt stored TOTP secrets and IdP client secrets under the newest key.

Step 2 of the rotation procedure in docs/key-rotation.md: run it once the new key is first in the keyring on every
node and the old key is still listed after it; drop the old key only after a run reports nothing left behind.
Safe to run while nodes serve sign-ins (each row is rewritten only if unchanged since it was read) and to repeat.
Keyed hashes (client secrets, recovery codes) can't be re-keyed: their old key stays until they are replaced.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from jeto_identity.core import crypto, keys
from jeto_identity.mfa import totp_keys
from jeto_identity.models import EncryptedTOTPDevice, SSOConnection

HASHED = {
    keys.CLIENT_SECRET_PEPPER: "application connections' secrets: keep the old key until each client's secret was "
    "rotated after the new key came first",
    keys.RECOVERY_CODE: "recovery codes: keep the old key until each user has new codes (or drop it: their "
    "authenticator app keeps working, only old codes stop)",
}


def rotate(*, dry_run: bool = False) -> list[keys.Rotation]:
    """Re-encrypt every stored TOTP secret and IdP client secret under its purpose's newest key."""
    devices = EncryptedTOTPDevice.objects.filter(key__startswith=totp_keys.PREFIX).only("pk", "key", "user_id")
    connections = SSOConnection.objects.exclude(client_secret_encrypted="").only("pk", "client_secret_encrypted")
    return [
        keys.rotate_column(keys.TOTP, devices, "key", lambda d: totp_keys.reencrypt(d.key, d.user_id), dry_run=dry_run),
        keys.rotate_column(
            keys.IDP_SECRET,
            connections,
            "client_secret_encrypted",
            lambda c: crypto.reencrypt(c.client_secret_encrypted),
            dry_run=dry_run,
        ),
    ]


class Command(BaseCommand):
    help = "Re-encrypt stored TOTP secrets and IdP client secrets under the newest key of the keyring."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count what would change; write nothing.")

    def handle(self, *args, dry_run: bool, **options) -> None:
        verb = "would be re-encrypted" if dry_run else "re-encrypted"
        results = rotate(dry_run=dry_run)
        for result in results:
            self.stdout.write(
                f"{result.purpose}: {result.rotated} {verb}, {result.current} already under the newest key, "
                f"{len(result.unreadable)} unreadable"
            )
        for purpose, note in HASHED.items():
            self.stdout.write(f"{purpose}: not re-encryptable ({note})")
        unreadable = {r.purpose: r.unreadable for r in results if r.unreadable}
        if unreadable:
            detail = "; ".join(f"{purpose}: ids {', '.join(map(str, ids))}" for purpose, ids in unreadable.items())
            raise CommandError(
                f"Some stored secrets open with no configured key ({detail}). Don't drop any key yet: find the key "
                "they were written with, or have their owners set them again."
            )
