"""Registering relying parties: admin (platform admins only, secret shown once), createoidcclient."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from jeto_identity.models import OAuthClient, RelyingParty
from jeto_identity.provider import relying_parties
from tests.identity.oidc_support import register_rp

ADD_URL = "/admin/jeto_identity/relyingparty/add/"


def _form(**overrides):
    data = {
        "name": "Acme Wiki",
        "description": "",
        "client_type": "confidential",
        "redirect_uris": "https://wiki.acme.test/oidc/callback\nhttps://wiki.acme.test/oidc/callback",
        "post_logout_redirect_uris": "https://wiki.acme.test/",
        "allowed_scopes": "",
        "enabled": "on",
    }
    data.update(overrides)
    return data


def test_superuser_registers_a_confidential_rp_and_sees_the_secret_once(client, superuser):
    client.force_login(superuser)
    response = client.post(ADD_URL, _form(skip_authorization="on"))
    assert response.status_code == 200, response.content[:2000]
    assert "no-store" in response["Cache-Control"]
    rp = RelyingParty.objects.get()
    secret = response.context["client_secret"]
    assert secret and secret.encode() in response.content
    assert rp.client_id.encode() in response.content
    assert rp.client_secret != secret and check_password(secret, rp.client_secret)  # hashed at rest
    assert rp.authorization_grant_type == OAuthClient.GRANT_AUTHORIZATION_CODE
    assert rp.algorithm == "RS256" and rp.skip_authorization and rp.created_by == superuser
    assert rp.redirect_uris == "https://wiki.acme.test/oidc/callback"  # de-duplicated

    change = client.get(f"/admin/jeto_identity/relyingparty/{rp.pk}/change/")
    assert change.status_code == 200
    assert secret.encode() not in change.content and rp.client_secret.encode() not in change.content


def test_public_rp_has_no_secret(client, superuser):
    client.force_login(superuser)
    response = client.post(ADD_URL, _form(client_type="public"))
    assert response.status_code == 200
    assert RelyingParty.objects.get().client_secret == ""
    assert b"PKCE only" in response.content


@pytest.mark.parametrize(
    "uris",
    [
        "http://wiki.acme.test/callback",  # http off loopback
        "https://wiki.acme.test/callback#x",
        "https://user@wiki.acme.test/callback",
        "https://*.acme.test/callback",
        "/relative/callback",
        "",
    ],
)
def test_bad_redirect_uris_are_refused_in_admin(client, superuser, uris):
    client.force_login(superuser)
    response = client.post(ADD_URL, _form(redirect_uris=uris))
    assert response.status_code == 200 and response.context["adminform"].form.errors
    assert not RelyingParty.objects.exists()


def test_org_admins_and_members_cannot_see_relying_parties(client, acme_admin, acme_member):
    register_rp()
    # Staff without the permission get 403; non-staff are sent to the admin's sign-in page.
    for user, status in ((acme_admin, 403), (acme_member, 302)):
        client.force_login(user)
        assert client.get("/admin/jeto_identity/relyingparty/").status_code == status
        assert client.get(ADD_URL).status_code == status


def test_relying_party_admin_lists_only_authorization_code_clients(client, superuser):
    register_rp("Visible RP")
    OAuthClient.objects.create(
        name="API connection", client_type="confidential", authorization_grant_type="client-credentials"
    )
    client.force_login(superuser)
    page = client.get("/admin/jeto_identity/relyingparty/")
    assert b"Visible RP" in page.content and b"API connection" not in page.content


def test_rotating_a_secret_shows_the_new_one_once(client, superuser):
    registration = register_rp()
    client.force_login(superuser)
    url = f"/admin/jeto_identity/relyingparty/{registration.client.pk}/rotate-secret/"
    assert client.get(url).status_code == 200
    response = client.post(url)
    new_secret = response.context["client_secret"]
    registration.client.refresh_from_db()
    assert check_password(new_secret, registration.client.client_secret)
    assert not check_password(registration.client_secret, registration.client.client_secret)


def test_createoidcclient_prints_json_credentials(db):
    out = io.StringIO()
    call_command(
        "createoidcclient",
        "--name",
        "Jeto Web",
        "--redirect-uri",
        "https://app.jeto.test/callback",
        "--post-logout-redirect-uri",
        "https://app.jeto.test/",
        "--trusted",
        stdout=out,
    )
    data = json.loads(out.getvalue())
    rp = RelyingParty.objects.get(client_id=data["client_id"])
    assert check_password(data["client_secret"], rp.client_secret)
    assert data["trusted"] is True and rp.skip_authorization
    assert data["redirect_uris"] == ["https://app.jeto.test/callback"]


def test_createoidcclient_public_and_errors(db):
    out = io.StringIO()
    call_command(
        "createoidcclient", "--name", "SPA", "--redirect-uri", "http://localhost:5173/cb", "--public", stdout=out
    )
    assert json.loads(out.getvalue())["client_secret"] is None
    with pytest.raises(CommandError):
        call_command("createoidcclient", "--name", "Bad", "--redirect-uri", "http://evil.example/cb")
    assert RelyingParty.objects.count() == 1


def test_register_service_validates_before_writing(db):
    with pytest.raises(ValidationError):
        relying_parties.register(name="x", redirect_uris="")
    with pytest.raises(ValidationError):
        relying_parties.register(name="x", redirect_uris="https://ok.example/cb", client_type="weird")
    assert not RelyingParty.objects.exists()


def test_admin_pages_render_for_a_superuser(client, superuser):
    registration = register_rp()
    public = register_rp("Public SPA", public=True)
    client.force_login(superuser)
    assert client.get("/admin/jeto_identity/relyingparty/").status_code == 200
    assert client.get(ADD_URL).status_code == 200
    change = client.get(f"/admin/jeto_identity/relyingparty/{registration.client.pk}/change/")
    assert change.status_code == 200 and b"Issue a new secret" in change.content
    public_change = client.get(f"/admin/jeto_identity/relyingparty/{public.client.pk}/change/")
    assert b"Issue a new secret" not in public_change.content
    assert client.post(f"/admin/jeto_identity/relyingparty/{public.client.pk}/rotate-secret/").status_code == 404
