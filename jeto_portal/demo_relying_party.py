"""The demo relying party that `seed_demo` registers, and the lines it prints about it."""

from __future__ import annotations

from django.conf import settings

from jeto_identity.models import RelyingParty
from jeto_identity.provider import relying_parties

CLIENT_ID = "jeto-demo-app"
REDIRECT_URIS = ["http://localhost:8080/callback", "http://127.0.0.1:8080/callback"]
POST_LOGOUT_URIS = ["http://localhost:8080/", "http://127.0.0.1:8080/"]


def seed() -> list[str]:
    """(Re)register the demo relying party with a fresh secret; the secret exists only in this output."""
    existing = RelyingParty.objects.filter(client_id=CLIENT_ID).first()
    if existing is None:
        registration = relying_parties.register(
            name="Jeto Demo App",
            client_id=CLIENT_ID,
            redirect_uris=REDIRECT_URIS,
            post_logout_redirect_uris=POST_LOGOUT_URIS,
        )
        client, secret = registration.client, registration.client_secret
    else:
        client, secret = existing, relying_parties.rotate_secret(existing)
    issuer = getattr(settings, "JETO_ISSUER", "") or "http://127.0.0.1:8000"
    return [
        "OpenID Connect demo relying party (third-party: shows the consent page):",
        f"  discovery URL  {issuer}/.well-known/openid-configuration",
        f"  client ID      {client.client_id}",
        f"  client secret  {secret}   (new each run; stored hashed)",
        f"  redirect URI   {REDIRECT_URIS[0]}",
        "  register your own: manage.py createoidcclient --name NAME --redirect-uri URI",
    ]
