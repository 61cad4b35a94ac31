"""Plans: one question (``plans.is_entitled``) enforced at SSO routing, the IdP callback, the token endpoint and
issuing clients, not only in admin forms. Switching off deletes nothing and is audited."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import override_settings

from jeto_identity.audit import services as audit
from jeto_identity.connections import services as clients
from jeto_identity.core.mail import wait_for_pending
from jeto_identity.models import AuditEvent, OAuthClient, Plan, SSOConnection
from jeto_identity.orgadmin import plans
from jeto_identity.sso import services as sso
from tests.api_clients_support import api, get_token, request_token
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

ALL = {"sso": True, "mfa_policy": True, "api_clients": True, "scim": True}


def give_plan(org, **features) -> Plan:
    row = plans.plan_row(org)
    for name, value in {**ALL, **features}.items():
        setattr(row, name, value)
    row.save()
    return row


@pytest.fixture
def acme_sso(acme) -> SSOConnection:
    return SSOConnection.objects.create(
        organization=acme, name="Okta", issuer="https://idp.example", client_id="jeto", enabled=True
    )


# --- the one question ------------------------------------------------------------------------------------------


def test_an_organisation_without_a_plan_has_the_default(acme):
    assert all(plans.is_entitled(acme, f) for f in plans.FEATURES)
    with override_settings(JETO_IDENTITY={"DEFAULT_PLAN": {"features": ["sso"], "max_api_clients": 2}}):
        assert plans.is_entitled(acme, "sso") and not plans.is_entitled(acme, "api_clients")
        assert plans.cap(acme, "api_clients") == 2
    give_plan(acme, sso=False)
    assert not plans.is_entitled(acme, "sso") and plans.is_entitled(acme.pk, "scim")


def test_an_unknown_feature_is_an_error_and_no_organisation_is_entitled_to_nothing(acme):
    with pytest.raises(KeyError):
        plans.is_entitled(acme, "ssso")
    assert not plans.is_entitled(None, "sso")


# --- single sign-on -------------------------------------------------------------------------------------------


def test_sso_off_stops_routing_and_lifts_enforcement_without_deleting(acme, acme_sso):
    acme.sso_enforced = True
    acme.save()
    assert sso.connection_for_email("x@acme.test") == acme_sso
    assert not sso.password_login_allowed("x@acme.test", None)
    give_plan(acme, sso=False)
    assert sso.connection_for_email("x@acme.test") is None
    assert sso.password_login_allowed("x@acme.test", None)  # enforcement suspended, the flag kept
    acme.refresh_from_db()
    assert acme.sso_enforced and SSOConnection.objects.filter(pk=acme_sso.pk, enabled=True).exists()
    give_plan(acme, sso=True)
    assert sso.connection_for_email("x@acme.test") == acme_sso


def test_sso_off_refuses_an_idp_callback_in_flight(acme, acme_sso):
    give_plan(acme, sso=False)
    with pytest.raises(sso.SSOLoginRefused) as refused:
        sso.resolve_user(acme_sso, {"sub": "1", "email": "new@acme.test", "email_verified": True})
    assert refused.value.reason == "not_entitled"


def test_sso_off_the_start_page_is_a_404(client, acme, acme_sso):
    give_plan(acme, sso=False)
    assert client.get(f"/sso/{acme_sso.public_id}/start/").status_code == 404


def test_the_email_step_sends_to_the_password_step_when_sso_is_off(client, acme, acme_sso):
    give_plan(acme, sso=False)
    response = client.post("/login/", {"email": "max@acme.test"})
    assert response.status_code == 302 and "/login/password/" in response["Location"]


def test_the_sso_connection_cap_counts_and_refuses(acme, acme_sso):
    give_plan(acme, max_sso_connections=1)
    with pytest.raises(plans.CapReached):
        plans.check_sso_connection_allowed(acme)
    give_plan(acme, max_sso_connections=2)
    plans.check_sso_connection_allowed(acme)
    give_plan(acme, sso=False)
    with pytest.raises(plans.NotEntitled):
        plans.check_sso_connection_allowed(acme)


def test_an_owner_cannot_add_a_connection_the_plan_leaves_out(client, acme, acme_owner, password):
    give_plan(acme, sso=False)
    sign_in(client, acme_owner.email, password)
    response = client.post(
        "/admin/jeto_identity/ssoconnection/add/",
        {
            "organization": acme.pk,
            "name": "Okta",
            "issuer": "https://idp.example",
            "client_id": "x",
            "scopes": "openid email profile",
            "default_role": "member",
            "email_verified_claim": "email_verified",
            "role_mapping": "{}",
        },
    )
    assert response.status_code == 200
    assert "plan does not include single sign-on" in str(response.context["adminform"].form.non_field_errors())
    assert not SSOConnection.objects.exists()


# --- policies -------------------------------------------------------------------------------------------------


def test_org_admins_cannot_switch_on_a_policy_the_plan_leaves_out(client, acme, acme_owner, password):
    give_plan(acme, mfa_policy=False)
    sign_in(client, acme_owner.email, password)
    page = client.get(f"/admin/jeto_identity/organization/{acme.pk}/change/")
    assert 'data-testid="request-mfa_policy"' in page.content.decode()
    response = client.post(
        f"/admin/jeto_identity/organization/{acme.pk}/change/",
        {
            "name": "Acme",
            "mfa_required": "on",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
            "domains-TOTAL_FORMS": "0",
            "domains-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "plan does not include mfa policy" in str(response.context["adminform"].form.errors["mfa_required"])
    acme.refresh_from_db()
    assert not acme.mfa_required


# --- application connections ---------------------------------------------------------------------------------


def test_no_new_client_without_the_entitlement_or_over_the_cap(acme):
    give_plan(acme, api_clients=False)
    with pytest.raises(ValidationError, match="plan does not include application connections"):
        clients.issue_client(organization=acme, name="CRM", scopes="org:read")
    give_plan(acme, api_clients=True, max_api_clients=1)
    clients.issue_client(organization=acme, name="CRM", scopes="org:read")
    with pytest.raises(ValidationError, match="allows 1 application connections"):
        clients.issue_client(organization=acme, name="ERP", scopes="org:read")


def test_switching_clients_off_refuses_tokens_and_revokes_outstanding_ones(client, acme, acme_conn, globex_conn):
    token = get_token(client, acme_conn)
    other = get_token(client, globex_conn)
    give_plan(acme, api_clients=False)
    refused = request_token(client, acme_conn.client_id, acme_conn.client_secret)
    assert refused.status_code == 400 and refused.json()["error"] == "unauthorized_client"
    assert api(client, "organization", token).status_code == 401
    assert api(client, "organization", other).status_code == 200  # another organisation is untouched
    assert OAuthClient.objects.filter(client_id=acme_conn.client_id, enabled=True).exists()  # nothing deleted
    event = AuditEvent.objects.get(event=audit.PLAN_CHANGED, organization_id=acme.pk)
    assert event.details["changes"] == {"api_clients": [True, False]} and event.details["count"] == 1
    give_plan(acme, api_clients=True)
    assert request_token(client, acme_conn.client_id, acme_conn.client_secret).status_code == 200


def test_removing_a_plan_returns_to_the_default_and_is_audited(acme):
    row = give_plan(acme, sso=False)
    row.delete()
    assert plans.is_entitled(acme, "sso")
    assert AuditEvent.objects.filter(event=audit.PLAN_CHANGED).count() == 2


# --- asking for a feature ----------------------------------------------------------------------------------------


def test_request_activation_mails_platform_admins_once_a_day_and_is_audited(
    client, acme, acme_admin, superuser, globex, password
):
    give_plan(acme, scim=False)
    sign_in(client, acme_admin.email, password)
    url = f"/admin/jeto_identity/organization/{acme.pk}/request-activation/"
    assert client.get(url).status_code == 405
    assert client.post(url, {"feature": "scim"}).status_code == 302
    assert client.post(url, {"feature": "scim"}).status_code == 302  # again: audited, not mailed
    wait_for_pending()
    assert [m.to for m in mail.outbox] == [[superuser.email]]
    assert "Acme asks for SCIM provisioning" in mail.outbox[0].subject
    events = AuditEvent.objects.filter(event=audit.PLAN_ACTIVATION_REQUESTED).order_by("pk")
    assert [(e.outcome, e.details.get("reason")) for e in events] == [("success", ""), ("denied", "repeated")]
    # Another organisation's page is a 404, not a request.
    assert (
        client.post(
            f"/admin/jeto_identity/organization/{globex.pk}/request-activation/", {"feature": "scim"}
        ).status_code
        == 404
    )


def test_org_admins_cannot_open_or_change_plans(client, acme, acme_owner, password):
    row = give_plan(acme)
    sign_in(client, acme_owner.email, password)
    assert client.get(f"/admin/jeto_identity/plan/{row.pk}/change/").status_code in (403, 404)
    assert client.post(f"/admin/jeto_identity/plan/{row.pk}/change/", {"organization": acme.pk}).status_code in (
        403,
        404,
    )
