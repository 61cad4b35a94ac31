"""SCIM tokens in Django admin: org admins issue, see once, rotate and revoke their own; nobody else's."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from jeto_identity.models import AuditEvent, ScimToken
from jeto_identity.provisioning import tokens
from tests.scim_support import Scim, user_body

BASE = "/admin/jeto_identity/scimtoken/"
pytestmark = pytest.mark.django_db


def _token_from(page: bytes) -> str:
    return re.search(r'<code id="scim-token">([^<]+)</code>', page.decode()).group(1)


@pytest.fixture
def as_acme_admin(client, acme_admin):
    client.force_login(acme_admin)
    return client


def test_org_admin_issues_a_token_and_sees_it_once(as_acme_admin, acme, caplog):
    response = as_acme_admin.post(f"{BASE}add/", {"name": "Okta", "organization": acme.pk})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    secret = _token_from(response.content)
    assert 'id="scim-base-url">http://testserver/scim/v2<' in response.content.decode()
    token = ScimToken.objects.get()
    assert token.organization == acme and token.created_by.email == "ada@acme.test"
    assert secret not in token.token_hash and token.prefix == secret[: len(token.prefix)]
    # Works at once; the change page and list never show it again.
    assert Scim(Client(), secret).get("/Users").status_code == 200
    change = as_acme_admin.get(f"{BASE}{token.pk}/change/").content.decode()
    listing = as_acme_admin.get(BASE).content.decode()
    assert secret not in change and secret not in listing
    assert token.prefix in listing
    assert secret not in caplog.text
    assert AuditEvent.objects.filter(event="scim.token_issued", organization_id=acme.pk).exists()


def test_last_used_is_shown(as_acme_admin, acme):
    issued = tokens.issue(acme, "Entra")
    Scim(Client(), issued.secret).get("/Users")
    issued.token.refresh_from_db()
    assert issued.token.last_used_at is not None
    page = as_acme_admin.get(f"{BASE}{issued.token.pk}/change/").content.decode()
    assert "Last used at" in page or "last used at" in page.lower()


def test_org_admin_cannot_issue_for_another_organisation(as_acme_admin, globex):
    response = as_acme_admin.post(f"{BASE}add/", {"name": "Sneaky", "organization": globex.pk})
    assert response.status_code == 200 and b"scim-token" not in response.content
    assert not ScimToken.objects.exists()


def test_another_organisations_token_is_404(as_acme_admin, globex):
    other = tokens.issue(globex, "Globex IdP").token
    assert other.prefix not in as_acme_admin.get(BASE).content.decode()
    for suffix in ("change/", "rotate/", "revoke/", "delete/", "history/"):
        assert as_acme_admin.get(f"{BASE}{other.pk}/{suffix}").status_code == 404
        assert as_acme_admin.post(f"{BASE}{other.pk}/{suffix}").status_code == 404
    other.refresh_from_db()
    assert other.is_active


def test_rotate_shows_a_new_token_once_and_the_old_one_stops(as_acme_admin, acme):
    issued = tokens.issue(acme, "Okta")
    assert as_acme_admin.get(f"{BASE}{issued.token.pk}/rotate/").status_code == 200  # the confirmation page
    assert Scim(Client(), issued.secret).get("/Users").status_code == 200
    response = as_acme_admin.post(f"{BASE}{issued.token.pk}/rotate/")
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    fresh = _token_from(response.content)
    assert fresh != issued.secret
    assert Scim(Client(), issued.secret).get("/Users").status_code == 401
    assert Scim(Client(), fresh).get("/Users").status_code == 200
    assert AuditEvent.objects.filter(event="scim.token_revoked", details__reason="rotated").exists()


def test_revoke(as_acme_admin, acme):
    issued = tokens.issue(acme, "Okta")
    response = as_acme_admin.post(f"{BASE}{issued.token.pk}/revoke/")
    assert response.status_code == 302
    assert Scim(Client(), issued.secret).get("/Users").status_code == 401
    issued.token.refresh_from_db()
    assert issued.token.revoked_at is not None
    assert as_acme_admin.post(f"{BASE}{issued.token.pk}/revoke/").status_code == 404  # already revoked


def test_a_member_without_admin_rights_sees_nothing(client, acme_member, acme):
    tokens.issue(acme, "Okta")
    client.force_login(acme_member)
    assert client.get(BASE).status_code in (302, 403)


def test_provisioned_users_and_groups_are_read_only_and_scoped(as_acme_admin, acme, globex_scim, scim):
    scim.post("/Users", user_body("pat@acme.test"))
    globex_scim.post("/Users", user_body("gil@globex.test"))
    listing = as_acme_admin.get("/admin/jeto_identity/scimuser/").content.decode()
    assert "pat@acme.test" in listing and "gil@globex.test" not in listing
    from jeto_identity.provisioning.models import ScimUser

    foreign = ScimUser.objects.get(user_name="gil@globex.test")
    assert as_acme_admin.get(f"/admin/jeto_identity/scimuser/{foreign.pk}/change/").status_code == 404
    own = ScimUser.objects.get(user_name="pat@acme.test")
    page = as_acme_admin.get(f"/admin/jeto_identity/scimuser/{own.pk}/change/").content.decode()
    assert 'name="user_name"' not in page  # read-only
    assert as_acme_admin.post(f"/admin/jeto_identity/scimuser/{own.pk}/delete/").status_code == 403
