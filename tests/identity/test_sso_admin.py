"""SSO connections in Django admin: org-scoped, write-only encrypted secret, redirect URI shown, test action."""

from __future__ import annotations

import re

import pytest

from jeto_identity.core import crypto
from jeto_identity.models import FederatedIdentity, Membership, Role, SSOConnection
from tests.sso_support import CLIENT_SECRET, make_connection

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sso_env")]

ADD_URL = "/admin/jeto_identity/ssoconnection/add/"


def change_url(connection: SSOConnection) -> str:
    return f"/admin/jeto_identity/ssoconnection/{connection.pk}/change/"


def form_data(org, issuer: str, **extra) -> dict:
    data = {
        "organization": org.pk,
        "name": "Okta",
        "issuer": issuer,
        "client_id": "client-from-idp",
        "client_secret": "s3cret-from-the-idp",
        "scopes": "openid email profile",
        "enabled": "on",
        "jit_provisioning": "on",
        "default_role": "member",
        "email_verified_claim": "email_verified",
        "role_claim": "",
        "role_mapping": "{}",
    }
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def test_org_owner_adds_a_connection_with_the_redirect_uri_shown_before_saving(client, acme_owner, acme, idp):
    client.force_login(acme_owner)
    page = client.get(ADD_URL)
    assert page.status_code == 200
    shown = re.search(rb'data-testid="sso-redirect-uri">([^<]+)<', page.content).group(1).decode()
    connection_id = re.search(rb'name="connection_id" value="([^"]+)"', page.content).group(1).decode()
    assert shown == f"http://testserver/sso/{connection_id}/callback/"
    response = client.post(
        ADD_URL, form_data(acme, idp.url + "/.well-known/openid-configuration", connection_id=connection_id)
    )
    assert response.status_code == 302, response.content
    connection = SSOConnection.objects.get()
    assert str(connection.public_id) == connection_id  # the URI registered at the IdP stays valid
    assert connection.issuer == idp.url
    assert connection.organization == acme
    page = client.get(change_url(connection))
    assert shown.encode() in page.content


def test_a_reused_connection_id_is_a_form_error_not_a_500(client, acme_owner, acme, idp):
    existing = make_connection(acme, idp.url, enabled=False)
    client.force_login(acme_owner)
    response = client.post(ADD_URL, form_data(acme, idp.url, enabled=None, connection_id=str(existing.public_id)))
    assert response.status_code == 200
    assert b"already submitted once" in response.content
    assert SSOConnection.objects.count() == 1


def test_a_tampered_connection_id_is_a_form_error(client, acme_owner, acme, idp):
    client.force_login(acme_owner)
    response = client.post(ADD_URL, form_data(acme, idp.url, connection_id="not-a-uuid"))
    assert response.status_code == 200
    assert b"This form was altered" in response.content
    assert not SSOConnection.objects.exists()
    malformed = client.post("/admin/jeto_identity/ssoconnection/abc/test/")  # no such URL: admin's change-URL redirect
    assert malformed.status_code == 302 and client.get(malformed["Location"]).status_code == 404


def test_client_secret_is_encrypted_at_rest_and_never_shown_back(client, acme_owner, acme, idp):
    client.force_login(acme_owner)
    client.post(ADD_URL, form_data(acme, idp.url))
    connection = SSOConnection.objects.get()
    assert "s3cret-from-the-idp" not in connection.client_secret_encrypted
    assert connection.get_client_secret() == "s3cret-from-the-idp"
    page = client.get(change_url(connection))
    assert b"s3cret-from-the-idp" not in page.content
    assert connection.client_secret_encrypted.encode() not in page.content
    assert b"Yes (encrypted)" in page.content
    # Saving without typing a secret keeps the stored one.
    data = form_data(acme, idp.url, client_secret="", name="Renamed")
    assert client.post(change_url(connection), data).status_code == 302
    connection.refresh_from_db()
    assert connection.name == "Renamed" and connection.get_client_secret() == "s3cret-from-the-idp"


def test_org_owner_cannot_see_or_create_another_organisations_connection(client, acme_owner, acme, globex, idp):
    theirs = make_connection(globex, idp.url)
    client.force_login(acme_owner)
    assert client.get(change_url(theirs)).status_code == 404
    listing = client.get("/admin/jeto_identity/ssoconnection/")
    assert listing.status_code == 200 and theirs.name.encode() not in listing.content
    response = client.post(ADD_URL, form_data(globex, idp.url))
    assert response.status_code == 200  # form error: not a valid choice
    assert SSOConnection.objects.filter(organization=globex).count() == 1
    assert client.post(f"/admin/jeto_identity/ssoconnection/{theirs.pk}/test/").status_code == 404


def test_a_member_without_admin_role_gets_no_access(client, acme_member, acme, idp):
    acme_member.is_staff = True
    acme_member.save()
    client.force_login(acme_member)
    assert client.get(ADD_URL).status_code == 403


def test_form_validation_in_plain_words(client, acme_owner, acme, idp, settings):
    client.force_login(acme_owner)
    bad = client.post(ADD_URL, form_data(acme, idp.url, scopes="profile", role_mapping='{"g": "owner"}'))
    assert bad.status_code == 200
    assert b"Scopes must include openid and email." in bad.content
    assert b"roles: admin, member" in bad.content
    no_secret = client.post(ADD_URL, form_data(acme, idp.url, client_secret=""))
    assert b"Enter the client secret" in no_secret.content
    assert not SSOConnection.objects.exists()


def test_only_one_enabled_connection_per_organisation(client, acme_owner, acme, idp):
    make_connection(acme, idp.url)
    client.force_login(acme_owner)
    response = client.post(ADD_URL, form_data(acme, idp.url, name="Second"))
    assert response.status_code == 200
    assert b"already has an enabled SSO connection" in response.content


def test_private_network_issuers_are_refused_in_production(client, acme_owner, acme, settings):
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "SSO_ALLOW_LOCAL_IDPS": False}
    client.force_login(acme_owner)
    for issuer in ("http://idp.example.com", "https://127.0.0.1:8443", "https://169.254.169.254"):
        response = client.post(ADD_URL, form_data(acme, issuer))
        assert response.status_code == 200, issuer
        assert re.search(rb"must use https|private or local network", response.content), issuer
    assert not SSOConnection.objects.exists()


def test_test_connection_reports_success_in_plain_words(client, acme_admin, acme, idp):
    connection = make_connection(acme, idp.url)
    client.force_login(acme_admin)
    response = client.post(f"/admin/jeto_identity/ssoconnection/{connection.pk}/test/", follow=True)
    text = response.content.decode()
    assert "works" in text and "Discovery document OK" in text and "JWKS OK (1 signing key)" in text


def test_test_connection_action_reports_an_unreachable_idp(client, acme_admin, acme, closed_port):
    connection = make_connection(acme, f"http://127.0.0.1:{closed_port}", enabled=False)
    client.force_login(acme_admin)
    response = client.post(
        "/admin/jeto_identity/ssoconnection/",
        {"action": "test_connection", "_selected_action": [connection.pk]},
        follow=True,
    )
    assert "has a problem" in response.content.decode()
    assert "Couldn&#x27;t connect to the IdP" in response.content.decode()


def test_test_connection_reports_a_wrong_issuer_path(client, acme_admin, acme, idp):
    connection = make_connection(acme, idp.url + "/realms/typo")
    client.force_login(acme_admin)
    text = client.post(f"/admin/jeto_identity/ssoconnection/{connection.pk}/test/", follow=True).content.decode()
    assert "has a problem" in text and "answered HTTP 404" in text


def test_discovery_naming_another_issuer_is_refused(acme, idp):
    from jeto_identity.sso import http
    from jeto_identity.sso.oidc import metadata

    connection = make_connection(acme, idp.url)
    doc = http.get_json(connection.discovery_url, "discovery document")
    metadata.parse_discovery(connection, doc)
    with pytest.raises(http.IdPError, match="names issuer"):
        metadata.parse_discovery(connection, {**doc, "issuer": "https://evil.test"})
    with pytest.raises(http.IdPError, match="we accept only RS256, ES256"):
        metadata.parse_discovery(connection, {**doc, "id_token_signing_alg_values_supported": ["HS256", "none"]})
    with pytest.raises(http.IdPError, match="no jwks_uri"):
        metadata.parse_discovery(connection, {**doc, "jwks_uri": ""})


def test_test_connection_needs_post(client, acme_admin, acme, idp):
    connection = make_connection(acme, idp.url)
    client.force_login(acme_admin)
    assert client.get(f"/admin/jeto_identity/ssoconnection/{connection.pk}/test/").status_code == 403


def test_federated_identities_are_scoped_and_read_only(client, acme_admin, acme, globex, idp, make_user):
    member = make_user("a1@acme.test")
    Membership.objects.create(user=member, organization=acme, role=Role.MEMBER)  # a link comes with a membership
    mine = FederatedIdentity.objects.create(connection=make_connection(acme, idp.url), subject="s1", user=member)
    theirs = FederatedIdentity.objects.create(
        connection=make_connection(globex, idp.url), subject="s2", user=make_user("g1@globex.test")
    )
    client.force_login(acme_admin)
    base = "/admin/jeto_identity/federatedidentity/"
    assert client.get(f"{base}{mine.pk}/change/").status_code == 200
    assert client.get(f"{base}{theirs.pk}/change/").status_code == 404
    assert client.get(f"{base}add/").status_code == 403
    assert client.post(f"{base}{mine.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not FederatedIdentity.objects.filter(pk=mine.pk).exists()


def test_encryption_keys_rotate(settings):
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "FIELD_ENCRYPTION_KEYS": ["old-key-0123456789abcdef"]}
    token = crypto.encrypt(CLIENT_SECRET)
    settings.JETO_IDENTITY = {
        **settings.JETO_IDENTITY,
        "FIELD_ENCRYPTION_KEYS": ["new-key-0123456789abcdef", "old-key-0123456789abcdef"],
    }
    assert crypto.decrypt(token) == CLIENT_SECRET
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "FIELD_ENCRYPTION_KEYS": ["new-key-0123456789abcdef"]}
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token)
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt("not-a-fernet-token")


def test_system_checks_for_sso(settings):
    from jeto_identity.sso.checks import SSO_BACKEND, check_sso

    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "SSO_ALLOW_LOCAL_IDPS": False}
    assert check_sso(None) == []
    settings.AUTHENTICATION_BACKENDS = ["jeto_identity.backends.EmailBackend"]
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "FIELD_ENCRYPTION_KEYS": [], "SSO_ALLOW_LOCAL_IDPS": True}
    ids = sorted(m.id for m in check_sso(None))
    assert ids == ["jeto_identity.E101", "jeto_identity.W101", "jeto_identity.W102"]
    settings.AUTHENTICATION_BACKENDS = ["jeto_identity.backends.EmailBackend", SSO_BACKEND]
    settings.DEBUG = True
    assert check_sso(None) == []
