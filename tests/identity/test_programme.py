"""The API Integrations programme: apply → approve → issue a client → token; decline and suspend stop it."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from jeto_identity.audit import services as audit
from jeto_identity.connections import programme
from jeto_identity.connections import services as clients
from jeto_identity.core.mail import wait_for_pending
from jeto_identity.models import AuditEvent, OAuthClient, ProgrammeApplication
from jeto_identity.orgadmin import plans
from tests.api_clients_support import api, get_token, request_token
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

APPLY = "/admin/jeto_identity/programmeapplication/add/"


@pytest.fixture
def acme_outside(acme):
    """Acme's plan leaves application connections out (it has not joined the programme)."""
    plans.set_feature(acme, plans.API_CLIENTS, False)
    return acme


def apply_form(org, **extra):
    return {
        "organization": str(org.pk),
        "purpose": "Sync our HR system",
        "contact_name": "Ada",
        "contact_email": "integrations@acme.test",
        "expected_usage": "1 app, 1,000 calls a day",
        "accept_terms": "on",
        "terms_version": programme.terms_version(),
        **extra,
    }


def test_the_whole_path_through_admin(client, acme_outside, acme_admin, superuser, password):
    sign_in(client, acme_admin.email, password)
    page = client.get(APPLY)
    assert "Beta" in page.content.decode()  # the terms are shown
    without_terms = client.post(APPLY, {**apply_form(acme_outside), "accept_terms": ""})
    assert without_terms.status_code == 200 and not ProgrammeApplication.objects.exists()
    assert client.post(APPLY, apply_form(acme_outside)).status_code == 302
    application = ProgrammeApplication.objects.get()
    assert application.status == "pending" and application.terms_version == programme.terms_version()
    with pytest.raises(ValidationError):  # no client before approval
        clients.issue_client(organization=acme_outside, name="HR", scopes="org:read")
    # An org admin cannot decide.
    assert (
        client.post(
            f"/admin/jeto_identity/programmeapplication/{application.pk}/decide/", {"decision": "approve"}
        ).status_code
        == 404
    )
    client.logout()
    sign_in(client, superuser.email, password)
    decided = client.post(
        f"/admin/jeto_identity/programmeapplication/{application.pk}/decide/", {"decision": "approve", "reason": ""}
    )
    assert decided.status_code == 302
    assert plans.is_entitled(acme_outside, plans.API_CLIENTS)
    issued = clients.issue_client(organization=acme_outside, name="HR", scopes="org:read")
    token = get_token(client, issued)
    assert api(client, "organization", token).status_code == 200
    wait_for_pending()
    subjects = [(m.to, m.subject) for m in mail.outbox]
    assert (["integrations@acme.test"], "Jeto API Integrations programme: Acme approved") in subjects
    assert (["integrations@acme.test"], "Jeto API Integrations programme: Acme received") in subjects
    assert list(AuditEvent.objects.filter(event__startswith="programme.").values_list("event", flat=True)) == [
        audit.PROGRAMME_DECIDED,
        audit.PROGRAMME_APPLIED,
    ]


def test_suspension_stops_tokens_keeps_clients_and_needs_a_reason(client, acme_outside, acme_admin, superuser):
    application = programme.apply(
        acme_outside,
        acme_admin,
        purpose="p",
        contact_name="c",
        contact_email="c@acme.test",
        expected_usage="u",
        accepted_terms_version=programme.terms_version(),
    )
    programme.decide(application, superuser, programme.APPROVE)
    issued = clients.issue_client(organization=acme_outside, name="HR", scopes="org:read")
    token = get_token(client, issued)
    with pytest.raises(ValidationError):
        programme.decide(application, superuser, programme.SUSPEND, "")
    programme.decide(application, superuser, programme.SUSPEND, "Unpaid invoice")
    assert api(client, "organization", token).status_code == 401  # outstanding token revoked at once
    refused = request_token(client, issued.client_id, issued.client_secret)
    assert refused.status_code == 400 and refused.json()["error"] == "unauthorized_client"
    assert OAuthClient.objects.filter(client_id=issued.client_id).exists()
    with pytest.raises(ValidationError):
        clients.issue_client(organization=acme_outside, name="ERP", scopes="org:read")
    programme.decide(application, superuser, programme.APPROVE)  # reinstated
    assert request_token(client, issued.client_id, issued.client_secret).status_code == 200


def test_decline_needs_a_reason_and_a_new_application_can_follow(acme_outside, acme_admin, superuser):
    kwargs = dict(
        purpose="p",
        contact_name="c",
        contact_email="c@acme.test",
        expected_usage="u",
        accepted_terms_version=programme.terms_version(),
    )
    application = programme.apply(acme_outside, acme_admin, **kwargs)
    with pytest.raises(ValidationError):
        programme.apply(acme_outside, acme_admin, **kwargs)  # one open application
    programme.decide(application, superuser, programme.DECLINE, "Tell us more about the use case")
    assert not plans.is_entitled(acme_outside, plans.API_CLIENTS)
    with pytest.raises(ValidationError):
        programme.decide(application, superuser, programme.SUSPEND, "x")  # not from declined
    assert programme.apply(acme_outside, acme_admin, **kwargs).status == "pending"


def test_only_admins_of_the_organisation_apply_and_only_superusers_decide(acme_outside, globex_admin, acme_admin):
    kwargs = dict(
        purpose="p",
        contact_name="c",
        contact_email="c@acme.test",
        expected_usage="u",
        accepted_terms_version=programme.terms_version(),
    )
    with pytest.raises(PermissionDenied):
        programme.apply(acme_outside, globex_admin, **kwargs)
    with pytest.raises(ValidationError):
        programme.apply(acme_outside, acme_admin, **{**kwargs, "accepted_terms_version": "stale"})
    application = programme.apply(acme_outside, acme_admin, **kwargs)
    with pytest.raises(PermissionDenied):
        programme.decide(application, acme_admin, programme.APPROVE)


def test_another_organisations_application_is_out_of_reach(client, acme_outside, acme_admin, globex_admin, password):
    application = programme.apply(
        acme_outside,
        acme_admin,
        purpose="p",
        contact_name="c",
        contact_email="c@acme.test",
        expected_usage="u",
        accepted_terms_version=programme.terms_version(),
    )
    sign_in(client, globex_admin.email, password)
    assert client.get(f"/admin/jeto_identity/programmeapplication/{application.pk}/change/").status_code == 404
    response = client.post(APPLY, apply_form(acme_outside))
    assert response.status_code == 200 and ProgrammeApplication.objects.count() == 1
