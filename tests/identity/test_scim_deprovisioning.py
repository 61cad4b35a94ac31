"""Deprovisioning through SCIM signs the person out everywhere and kills their tokens (behaviour, not internals)."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from jeto_identity.models import Membership, User
from tests.conftest import sign_in
from tests.identity.oidc_support import authorize_params, authorize_url, pkce_pair, query, register_rp
from tests.identity.test_oidc_token import basic, exchange
from tests.scim_support import patch_body, user_body

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "the-person-set-this-passphrase"


@pytest.fixture
def registration(db):
    return register_rp("Deprov RP", trusted=True)


def _provision(scim, email: str) -> tuple[str, User]:
    created = scim.post("/Users", user_body(email))
    assert created.status_code == 201, created.content
    user = User.objects.get(email=email)
    user.set_password(NEW_PASSWORD)  # the person set a password with the reset link
    user.save()
    return created.json()["id"], user


def _signed_in_with_tokens(registration, email: str, password: str = NEW_PASSWORD) -> tuple[Client, dict]:
    browser = Client()
    sign_in(browser, email, password)
    assert browser.get("/account/").status_code == 200
    verifier, challenge = pkce_pair()
    response = browser.get(authorize_url(authorize_params(registration.client.client_id, challenge)))
    tokens = exchange(browser, registration, query(response["Location"])["code"], verifier).json()
    assert "access_token" in tokens, tokens
    return browser, tokens


def _assert_signed_out_and_tokens_dead(browser: Client, registration, tokens: dict) -> None:
    account = browser.get("/account/")
    assert account.status_code == 302 and "/login/" in account["Location"]
    api = Client()
    assert api.get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}").status_code == 401
    auth = basic(registration.client.client_id, registration.client_secret)
    introspection = api.post("/o/introspect/", {"token": tokens["access_token"]}, HTTP_AUTHORIZATION=auth)
    assert introspection.json().get("active") is False
    refresh = api.post(
        "/o/token/", {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, HTTP_AUTHORIZATION=auth
    )
    assert refresh.json()["error"] == "invalid_grant"


ENTRA_DEACTIVATE = patch_body({"op": "Replace", "path": "active", "value": "False"})
OKTA_DEACTIVATE = patch_body({"op": "replace", "value": {"active": False}})


@pytest.mark.parametrize("body", [ENTRA_DEACTIVATE, OKTA_DEACTIVATE], ids=["entra", "okta"])
def test_active_false_signs_out_and_revokes(scim, registration, body):
    scim_id, user = _provision(scim, "pat@acme.test")
    browser, tokens = _signed_in_with_tokens(registration, "pat@acme.test")
    response = scim.patch(f"/Users/{scim_id}", body)
    assert response.status_code == 200, response.content
    assert response.json()["active"] is False
    _assert_signed_out_and_tokens_dead(browser, registration, tokens)
    user.refresh_from_db()
    assert not user.is_active
    refused = Client()
    sign_in(refused, "pat@acme.test", NEW_PASSWORD)
    assert refused.get("/account/").status_code == 302  # cannot sign in again


def test_put_active_false_and_delete_also_sign_out(scim, registration):
    scim_id, _ = _provision(scim, "pat@acme.test")
    browser, tokens = _signed_in_with_tokens(registration, "pat@acme.test")
    assert scim.put(f"/Users/{scim_id}", user_body("pat@acme.test", active=False)).status_code == 200
    _assert_signed_out_and_tokens_dead(browser, registration, tokens)

    other_id, _ = _provision(scim, "sam@acme.test")
    browser, tokens = _signed_in_with_tokens(registration, "sam@acme.test")
    assert scim.delete(f"/Users/{other_id}").status_code == 204
    _assert_signed_out_and_tokens_dead(browser, registration, tokens)


def test_reactivation_lets_the_person_back_in(scim, registration):
    scim_id, user = _provision(scim, "pat@acme.test")
    scim.patch(f"/Users/{scim_id}", ENTRA_DEACTIVATE)
    response = scim.patch(f"/Users/{scim_id}", patch_body({"op": "Replace", "path": "active", "value": "True"}))
    assert response.json()["active"] is True
    user.refresh_from_db()
    assert user.is_active
    _signed_in_with_tokens(registration, "pat@acme.test")


@pytest.mark.parametrize(
    "engine", ["django.contrib.sessions.backends.db", "django.contrib.sessions.backends.cache"], ids=["db", "cache"]
)
def test_a_linked_admin_leaves_the_organisation_and_is_signed_out(
    scim, registration, acme_admin, acme, password, engine, settings
):
    # The account stays active (it is not this organisation's to disable): only ending its sessions signs it out.
    settings.SESSION_ENGINE = engine
    created = scim.post("/Users", user_body(acme_admin.email))
    assert created.status_code == 201, created.content
    browser, tokens = _signed_in_with_tokens(registration, acme_admin.email, password)
    assert scim.patch(f"/Users/{created.json()['id']}", ENTRA_DEACTIVATE).status_code == 200
    _assert_signed_out_and_tokens_dead(browser, registration, tokens)
    acme_admin.refresh_from_db()
    assert acme_admin.is_active  # not this organisation's account to disable
    assert not Membership.objects.filter(user=acme_admin, organization=acme).exists()


@override_settings(SESSION_ENGINE="django.contrib.sessions.backends.cache")
def test_sessions_in_the_cache_engine_end_too(scim, registration):
    scim_id, _ = _provision(scim, "pat@acme.test")
    browser, tokens = _signed_in_with_tokens(registration, "pat@acme.test")
    assert scim.patch(f"/Users/{scim_id}", ENTRA_DEACTIVATE).status_code == 200
    _assert_signed_out_and_tokens_dead(browser, registration, tokens)


def test_an_existing_member_provisioned_as_inactive_is_signed_out(scim, registration, acme_member, password):
    browser, tokens = _signed_in_with_tokens(registration, acme_member.email, password)
    created = scim.post("/Users", user_body(acme_member.email, active=False))
    assert created.status_code == 201, created.content
    _assert_signed_out_and_tokens_dead(browser, registration, tokens)
    acme_member.refresh_from_db()
    assert not acme_member.is_active


def test_an_owner_provisioned_as_inactive_is_refused(scim, acme_owner, acme):
    response = scim.post("/Users", user_body(acme_owner.email, active=False))
    assert response.status_code == 403
    assert Membership.objects.filter(user=acme_owner, organization=acme).exists()
    acme_owner.refresh_from_db()
    assert acme_owner.is_active
