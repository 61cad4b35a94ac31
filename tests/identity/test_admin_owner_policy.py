"""The organisation's security flags that weigh on its owner, driven through the real organisation admin form.

*Enforce SSO* refuses every member's password sign-in and reset (the owner's included) and *Require MFA after
SSO* decides whether the IdP alone signs a linked owner in: only an owner (or a platform admin) sets them. And
nobody, platform admins included, switches SSO enforcement on without an enabled SSO connection, which would
leave members with no way in at all.
"""

from __future__ import annotations

import pytest

from jeto_identity.models import Organization, SSOConnection
from tests.conftest import sign_in
from tests.identity.test_admin_isolation import _existing_domains, _existing_memberships, _inline_data

pytestmark = pytest.mark.django_db


def org_url(org: Organization) -> str:
    return f"/admin/jeto_identity/organization/{org.pk}/change/"


def save_org(client, org: Organization, **flags: bool):
    """POST the organisation's change form as it stands, with ``flags`` set (``False`` leaves a box unticked)."""
    data = _inline_data(org, memberships=_existing_memberships(org), domains=_existing_domains(org))
    data.pop("sso_enforced", None)
    data["slug"] = org.slug  # read-only for org admins, required of platform admins
    for name in ("sso_enforced", "mfa_after_sso"):
        value = flags.get(name, getattr(org, name))
        if value:
            data[name] = "on"
    return client.post(org_url(org), data)


def connect(org: Organization, *, enabled: bool) -> SSOConnection:
    return SSOConnection.objects.create(
        organization=org, name="IdP", issuer="https://idp.example", client_id="jeto", enabled=enabled
    )


@pytest.fixture
def as_acme_admin(client, acme_admin, acme_owner, password):
    sign_in(client, acme_admin.email, password)
    return client


@pytest.fixture
def as_acme_owner(client, acme_owner, password):
    sign_in(client, acme_owner.email, password)
    return client


@pytest.fixture
def as_superuser(client, superuser, password):
    sign_in(client, superuser.email, password)
    return client


def test_an_admin_cannot_enforce_sso_even_with_an_enabled_connection(as_acme_admin, acme):
    connect(acme, enabled=True)
    response = save_org(as_acme_admin, acme, sso_enforced=True)
    assert response.status_code == 302  # the field is read-only for them: the rest of the form saves
    acme.refresh_from_db()
    assert not acme.sso_enforced


def test_an_admin_cannot_switch_sso_enforcement_off_either(as_acme_admin, acme):
    connect(acme, enabled=True)
    Organization.objects.filter(pk=acme.pk).update(sso_enforced=True)
    acme.refresh_from_db()
    assert save_org(as_acme_admin, acme, sso_enforced=False).status_code == 302
    acme.refresh_from_db()
    assert acme.sso_enforced


def test_an_admin_cannot_switch_mfa_after_sso_off(as_acme_admin, acme):
    Organization.objects.filter(pk=acme.pk).update(mfa_after_sso=True)
    acme.refresh_from_db()
    assert save_org(as_acme_admin, acme, mfa_after_sso=False).status_code == 302
    acme.refresh_from_db()
    assert acme.mfa_after_sso


def test_an_admin_sees_both_flags_read_only(as_acme_admin, acme):
    response = as_acme_admin.get(org_url(acme))
    form = response.context["adminform"].form
    assert "sso_enforced" not in form.fields and "mfa_after_sso" not in form.fields
    assert {"sso_enforced", "mfa_after_sso"} <= set(response.context["adminform"].readonly_fields)


def test_the_owner_sets_both_flags(as_acme_owner, acme):
    connect(acme, enabled=True)
    assert save_org(as_acme_owner, acme, sso_enforced=True, mfa_after_sso=True).status_code == 302
    acme.refresh_from_db()
    assert acme.sso_enforced and acme.mfa_after_sso
    assert save_org(as_acme_owner, acme, sso_enforced=False, mfa_after_sso=False).status_code == 302
    acme.refresh_from_db()
    assert not acme.sso_enforced and not acme.mfa_after_sso


@pytest.mark.parametrize("connection", [None, "disabled", "another organisation's"])
def test_sso_cannot_be_enforced_without_an_enabled_connection(as_acme_owner, acme, globex, connection):
    if connection == "disabled":
        connect(acme, enabled=False)
    elif connection == "another organisation's":
        connect(globex, enabled=True)
    response = save_org(as_acme_owner, acme, sso_enforced=True)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["sso_enforced"]
    assert "enable an SSO connection" in str(errors)
    acme.refresh_from_db()
    assert not acme.sso_enforced


def test_not_even_a_platform_admin_enforces_sso_without_an_enabled_connection(as_superuser, acme):
    response = save_org(as_superuser, acme, sso_enforced=True)
    assert response.status_code == 200
    assert "enable an SSO connection" in str(response.context["adminform"].form.errors["sso_enforced"])
    acme.refresh_from_db()
    assert not acme.sso_enforced


def test_an_already_enforced_organisation_still_saves(as_acme_owner, acme):
    """The rule is about switching it on: an organisation enforced before its connection was disabled can still
    have its name changed (and SSO enforcement switched off)."""
    Organization.objects.filter(pk=acme.pk).update(sso_enforced=True)
    acme.refresh_from_db()
    acme.name = "Acme Corp"
    assert save_org(as_acme_owner, acme).status_code == 302
    acme.refresh_from_db()
    assert acme.name == "Acme Corp" and acme.sso_enforced
