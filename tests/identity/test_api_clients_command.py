"""manage.py createapiclient and seed_demo's application connection."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from jeto_identity.connections import services as clients
from jeto_identity.models import OAuthClient
from tests.api_clients_support import api, request_token


def _run(*args: str) -> dict:
    out = io.StringIO()
    call_command("createapiclient", *args, stdout=out)
    return json.loads(out.getvalue())


def test_createapiclient_prints_id_and_secret_as_json(client, acme, fresh_bearer_cache):
    payload = _run("--org", "acme", "--name", "CI deploy", "--scope", "org:read members:read")
    assert set(payload) >= {"client_id", "client_secret", "organization", "scope"}
    c = OAuthClient.objects.get(client_id=payload["client_id"])
    assert c.organization == acme and c.allowed_scopes == "members:read org:read"
    assert payload["client_secret"] not in c.client_secret
    token = request_token(client, payload["client_id"], payload["client_secret"]).json()["access_token"]
    assert api(client, "organization", token).json()["slug"] == "acme"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--org", "nope", "--name", "X", "--scope", "org:read"], "No organisation"),
        (["--org", "acme", "--name", "X", "--scope", "org:read root"], "Unknown scope"),
        (["--org", "acme", "--name", "X", "--scope", "org:read", "--token-lifetime", "0"], "positive"),
    ],
)
def test_createapiclient_bad_input(acme, args, message):
    with pytest.raises(CommandError, match=message):
        _run(*args)
    assert not OAuthClient.objects.exists()


def test_seed_demo_issues_an_acme_client_and_rekeys_on_rerun(client, db, fresh_bearer_cache):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    text = out.getvalue()
    client_id = text.split("client_id:")[1].split()[0]
    secret = text.split("client_secret:")[1].split()[0]
    c = OAuthClient.objects.get(client_id=client_id)
    assert c.organization.slug == "acme" and clients.check_client_secret(c, secret)
    out2 = io.StringIO()
    call_command("seed_demo", stdout=out2)
    secret2 = out2.getvalue().split("client_secret:")[1].split()[0]
    assert OAuthClient.objects.filter(organization__slug="acme").count() == 1
    assert request_token(client, client_id, secret).status_code == 401
    assert request_token(client, client_id, secret2).status_code == 200
