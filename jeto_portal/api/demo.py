"""Demo application connection for ``seed_demo``."""

from __future__ import annotations

from jeto_identity.connections import services as clients
from jeto_identity.models import OAuthClient, Organization

DEMO_NAME = "Acme demo integration"
DEMO_SCOPES = "org:read members:read"


def seed_demo_client() -> list[str]:
    """Issue (or, on a re-run, re-key) Acme's demo client; returns lines to print, the secret among them."""
    org = Organization.objects.get(slug="acme")
    existing = OAuthClient.objects.filter(organization=org, name=DEMO_NAME).first()
    if existing is None:
        issued = clients.issue_client(
            organization=org, name=DEMO_NAME, scopes=DEMO_SCOPES, description="Created by seed_demo."
        )
    else:
        existing.enabled = True
        existing.save(update_fields=["enabled"])
        issued = clients.rotate_secret(existing, grace_seconds=0)
    return [
        "Application connection (Acme, scopes: org:read members:read):",
        f"  client_id:     {issued.client_id}",
        f"  client_secret: {issued.client_secret}   (shown now only; re-run seed_demo for a new one)",
        "  curl -u CLIENT_ID:CLIENT_SECRET -d grant_type=client_credentials http://127.0.0.1:8000/o/token/",
    ]
