from django.core.management.base import BaseCommand

from jeto_identity.provider.cleanup import clear_stale_contexts


class Command(BaseCommand):
    help = "Delete OIDC authentication contexts whose codes and tokens are gone. Run it next to `cleartokens`."

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"Deleted {clear_stale_contexts()} stale authentication context(s).")
