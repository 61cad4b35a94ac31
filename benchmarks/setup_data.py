"""Create the benchmark organisation, its members and two clients (portal-hashed and stock PBKDF2-hashed); print JSON.

Run with the portal settings: ``python -m benchmarks.setup_data``.
"""

import json
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from oauth2_provider.models import get_access_token_model  # noqa: E402

from jeto_identity.models import Membership, OAuthClient, Organization, Role, User  # noqa: E402
from jeto_identity.services import clients  # noqa: E402

SCOPES = "org:read members:read"

MEMBERS = 25  # one page of /api/v1/members

org, _ = Organization.objects.get_or_create(slug="bench", defaults={"name": "Benchmark Org"})
for n in range(MEMBERS):
    user = User.objects.filter(email=f"member{n:02d}@bench.example").first()
    if user is None:
        user = User.objects.create_user(email=f"member{n:02d}@bench.example", password=None)  # no hashing
    Membership.objects.get_or_create(user=user, organization=org, defaults={"role": Role.MEMBER})
OAuthClient.objects.filter(organization=org).delete()
get_access_token_model().objects.filter(application__isnull=True).delete()

portal = clients.issue_client(organization=org, name="bench-portal", scopes=SCOPES)

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
        }
    )
)
