"""manage.py createapiclient."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from oauth2_provider.models import get_access_token_model

from jeto_identity.models import OAuthClient
from tests.api_clients_support import request_token, token_checksum


def _run(*args: str) -> dict:
    out = io.StringIO()
    call_command("createapiclient", *args, stdout=out)
    return json.loads(out.getvalue())


def test_createapiclient_prints_id_and_secret_as_json(client, acme):
    payload = _run("--org", "acme", "--name", "CI deploy", "--scope", "org:read members:read")
    assert set(payload) >= {"client_id", "client_secret", "organization", "scope"}
    c = OAuthClient.objects.get(client_id=payload["client_id"])
    assert c.organization == acme and c.allowed_scopes == "members:read org:read"
    assert payload["client_secret"] not in c.client_secret
    token = request_token(client, payload["client_id"], payload["client_secret"]).json()["access_token"]
    issued = get_access_token_model().objects.get(token_checksum=token_checksum(token))
    assert issued.application == c and set(issued.scope.split()) == {"org:read", "members:read"}


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
