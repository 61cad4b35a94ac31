"""Create the benchmark organisation, its members and two clients (portal-hashed and stock PBKDF2-hashed); print JSON.

Run with the portal settings: ``python -m benchmarks.setup_data [--prefill N]``. ``--prefill`` first fills the
access-token table with N live tokens of a third client, as a production table holds (one hour of 400 grants/s
is 1.4 million rows), so the grants' INSERTs and the bearer lookups meet full-size indexes.
"""

import argparse
import json
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection  # noqa: E402
from oauth2_provider.models import get_access_token_model  # noqa: E402

from jeto_identity.connections import services as clients  # noqa: E402
from jeto_identity.models import Membership, OAuthClient, Organization, Role, User  # noqa: E402

SCOPES = "org:read members:read"

MEMBERS = 25  # one page of /api/v1/members

org, _ = Organization.objects.get_or_create(slug="bench", defaults={"name": "Benchmark Org"})
for n in range(MEMBERS):
    user = User.objects.filter(email=f"member{n:02d}@bench.example").first()
    if user is None:
        user = User.objects.create_user(email=f"member{n:02d}@bench.example", password=None)  # no hashing
    Membership.objects.get_or_create(user=user, organization=org, defaults={"role": Role.MEMBER})
with connection.cursor() as cursor:  # one statement: the ORM would load a prefilled table to cascade the delete
    cursor.execute(
        f"DELETE FROM {get_access_token_model()._meta.db_table} WHERE application_id IN "
        f"(SELECT id FROM {OAuthClient._meta.db_table} WHERE organization_id = %s)",
        [org.pk],
    )
OAuthClient.objects.filter(organization=org).delete()
get_access_token_model().objects.filter(application__isnull=True).delete()

portal = clients.issue_client(organization=org, name="bench-portal", scopes=SCOPES)

parser = argparse.ArgumentParser()
parser.add_argument("--prefill", type=int, default=0)
prefill = parser.parse_args().prefill
with connection.cursor() as cursor:
    # What autovacuum does in production (it may be off on a test server): the last run's deleted rows would
    # otherwise bloat the indexes every grant writes to.
    cursor.execute(f"VACUUM ANALYZE {get_access_token_model()._meta.db_table}")
if prefill:
    background = clients.issue_client(organization=org, name="bench-background", scopes=SCOPES).client
    with connection.cursor() as cursor:  # one statement, no Python round trips; checksums are 64 hex chars
        cursor.execute(
            f"""INSERT INTO {get_access_token_model()._meta.db_table}
                (token, token_checksum, expires, scope, application_id, user_id, created, updated, resource)
            SELECT '', md5('bg' || g) || md5('gb' || g), now() + interval '1 hour', %s, %s, NULL, now(), now(),
                   '[]'::jsonb
            FROM generate_series(1, %s) AS g""",
            [SCOPES, background.pk, prefill],
        )
        # Settle it as a steady-state table: no autovacuum or checkpoint of the fill competing with the run.
        cursor.execute(f"VACUUM ANALYZE {get_access_token_model()._meta.db_table}")
        cursor.execute("CHECKPOINT")

# Stock DOT: the secret it generates by default (128 chars), hashed the way it does by default (PBKDF2).
stock_secret = clients.generate_secret()
stock = OAuthClient(organization=org, name="bench-stock", allowed_scopes=SCOPES)
clients.prepare_connection(stock)
stock.client_secret = make_password(stock_secret, hasher="pbkdf2_sha256")
stock.save()

print(
    json.dumps(
        {
            "portal": {"client_id": portal.client_id, "client_secret": portal.client_secret},
            "stock": {"client_id": stock.client_id, "client_secret": stock_secret},
            "tokens_in_table": get_access_token_model().objects.count(),
        }
    )
)
