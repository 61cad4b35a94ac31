"""Speed-ups in the app itself (no library internals): token values, cookie-less requests left unloaded."""

from __future__ import annotations

import re
from unittest import mock

import pytest
from django.test import RequestFactory
from django.utils.functional import SimpleLazyObject

from jeto_identity.provider.tokens import generate_token
from tests.api_clients_support import api, get_token, request_token

# -- token values ----------------------------------------------------------------------------------------------


def test_generated_tokens_are_256_bit_b64token_values():
    values = {generate_token(None) for _ in range(200)}
    assert len(values) == 200
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{43}", v) for v in values)


@pytest.mark.django_db
def test_granted_tokens_use_the_generator(client, acme_conn):
    body = request_token(client, acme_conn.client_id, acme_conn.client_secret).json()
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", body["access_token"])


# -- the MFA policy middleware leaves cookie-less requests' user unloaded -----------------------------------------


@pytest.mark.django_db
def test_bearer_calls_never_load_a_session_user(client, acme_conn):
    token = get_token(client, acme_conn)
    with mock.patch("django.contrib.auth.middleware.auth.get_user") as get_user:
        assert api(client, "organization", token).status_code == 200
        assert request_token(client, acme_conn.client_id, acme_conn.client_secret).status_code == 200
    assert get_user.call_count == 0


@pytest.mark.django_db
def test_a_session_cookie_still_gets_the_policy(client, acme, acme_member):
    from jeto_identity.mfa.middleware import _certainly_anonymous

    acme.mfa_required = True
    acme.save()
    client.force_login(acme_member)
    response = client.get("/account/")
    assert response.status_code == 302 and "/mfa/" in response["Location"]  # sent to enrolment

    request = RequestFactory().get("/")
    assert _certainly_anonymous(request, SimpleLazyObject(lambda: None))
    request.COOKIES["sessionid"] = "x"
    assert not _certainly_anonymous(request, SimpleLazyObject(lambda: None))
    loaded = SimpleLazyObject(lambda: acme_member)
    _ = loaded.pk
    assert not _certainly_anonymous(RequestFactory().get("/"), loaded)
