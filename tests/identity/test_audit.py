"""The audit log: what is recorded, that it is scrubbed, scoped in admin, exported, and pruned."""

import json
import logging
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from jeto_identity.audit import services as audit
from jeto_identity.core.mail import wait_for_pending
from jeto_identity.models import AuditEvent, Membership, Role
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


def events(name):
    return list(AuditEvent.objects.filter(event=name).order_by("time", "id"))


def test_successful_sign_in_records_who_how_where_and_organisation(client, acme_member, acme, password):
    sign_in(client, acme_member.email, password)
    client.defaults["HTTP_USER_AGENT"] = "x"
    (event,) = events(audit.SIGN_IN_SUCCESS)
    assert event.subject_id == acme_member.pk and event.actor_id == acme_member.pk
    assert event.organization_id == acme.pk and event.organization == "Acme"
    assert event.ip_address == "127.0.0.1"
    assert event.details["amr"] == ["pwd"] and event.details["method"] == "password"
    assert event.outcome == "success"


def test_wrong_password_and_unknown_email_are_failures_without_the_password(client, acme_member, acme):
    sign_in(client, acme_member.email, "wrong-password-typed-here")
    sign_in(client, "nobody@acme.test", "another-wrong-password")
    known, unknown = events(audit.SIGN_IN_FAILURE)
    assert known.subject_id == acme_member.pk and known.outcome == "failure"
    assert unknown.subject_id is None and unknown.subject == "nobody@acme.test"
    assert unknown.organization_id == acme.pk  # the verified domain says whose it is
    assert unknown.details["reason"] == "unknown_email"
    dump = json.dumps([e.details for e in (known, unknown)])
    assert "wrong-password" not in dump and "another-wrong" not in dump


def test_user_agent_is_truncated(client, acme_member, password):
    client.post("/login/", {"email": acme_member.email}, HTTP_USER_AGENT="A" * 5000)
    client.post("/login/password/", {"password": password}, HTTP_USER_AGENT="A" * 5000)
    assert len(events(audit.SIGN_IN_SUCCESS)[0].user_agent) == audit.USER_AGENT_MAX


def test_every_event_is_one_json_log_line_without_secrets(caplog, acme_member):
    with caplog.at_level(logging.INFO, logger="jeto_identity.audit"):
        audit.record(
            audit.API_CLIENT_CREATED,
            subject="client-123",
            client_id="client-123",
            client_secret="s3cr3t-value",
            password="hunter2hunter2",
            changes={"access_token": "abc", "scope": "read"},
        )
    (line,) = [r.getMessage() for r in caplog.records if r.name == "jeto_identity.audit"]
    payload = json.loads(line)
    assert payload["event"] == "api_client.created" and payload["details"]["client_id"] == "client-123"
    assert "s3cr3t" not in line and "hunter2" not in line and "abc" not in line
    assert payload["details"]["dropped"] == ["client_secret", "password"]
    assert payload["details"]["changes"] == {"scope": "read"}


def test_password_reset_requested_and_completed(client, acme_member):
    client.post("/password-reset/", {"email": acme_member.email})
    client.post("/password-reset/", {"email": "ghost@nowhere.test"})
    requested = events(audit.PASSWORD_RESET_REQUESTED)
    assert [e.details["reason"] for e in requested] == ["account", "unknown_email"]
    wait_for_pending()
    link = next(line for line in mail.outbox[0].body.splitlines() if "/password-reset/" in line).strip()
    page = client.get(link, follow=True)
    new = "a-completely-new-long-passphrase"
    client.post(page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    (done,) = events(audit.PASSWORD_RESET_COMPLETED)
    assert done.subject_id == acme_member.pk


def test_policy_change_in_admin_records_actor_and_diff(client, acme_admin, acme, password):
    sign_in(client, acme_admin.email, password)
    data = {
        "name": "Acme",
        "mfa_required": "on",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "domains-TOTAL_FORMS": "0",
        "domains-INITIAL_FORMS": "0",
    }
    response = client.post(f"/admin/jeto_identity/organization/{acme.pk}/change/", data)
    assert response.status_code == 302
    (event,) = events(audit.POLICY_CHANGED)
    assert event.actor_id == acme_admin.pk and event.organization_id == acme.pk
    assert event.details["changes"] == {"mfa_required": [False, True]}


def test_membership_added_changed_removed_are_recorded(acme, make_user):
    user = make_user("new@acme.test")
    membership = Membership.objects.create(user=user, organization=acme, role=Role.MEMBER)
    membership.role = Role.ADMIN
    membership.save()
    membership.delete()
    names = [e.event for e in AuditEvent.objects.filter(subject_id=user.pk).order_by("id")]
    assert names == [audit.MEMBER_ADDED, audit.MEMBER_CHANGED, audit.MEMBER_REMOVED]
    changed = events(audit.MEMBER_CHANGED)[0]
    assert changed.details["old_role"] == "member" and changed.details["role"] == "admin"


def test_deleting_a_user_keeps_their_history(acme_member, superuser):
    audit.record(audit.SIGN_IN_SUCCESS, subject=acme_member)
    acme_member.delete()  # cascades to memberships, which are audited in the same transaction
    assert AuditEvent.objects.filter(subject=acme_member.email, event=audit.SIGN_IN_SUCCESS).exists()
    assert AuditEvent.objects.filter(subject=acme_member.email, event=audit.MEMBER_REMOVED).exists()


def test_failed_change_leaves_no_audit_row(acme, acme_member):
    from django.db import transaction

    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        Membership.objects.filter(user=acme_member).update(role=Role.MEMBER)
        m = Membership.objects.get(user=acme_member)
        m.role = Role.ADMIN
        m.save()
        raise RuntimeError("boom")
    assert AuditEvent.objects.count() == before


# -- admin ---------------------------------------------------------------------------------------------------


@pytest.fixture
def populated(acme, globex, acme_member, globex_member):
    audit.record(audit.SIGN_IN_SUCCESS, subject=acme_member, organization=acme)
    audit.record(audit.SIGN_IN_SUCCESS, subject=globex_member, organization=globex)
    audit.record(audit.SIGN_IN_FAILURE, subject="=cmd|' /C calc'!A0", organization=acme, outcome="failure")


def _changelist(client, **params):
    return client.get("/admin/jeto_identity/auditevent/", params)


def test_org_admin_sees_only_their_organisations_events(client, acme_admin, populated, password):
    sign_in(client, acme_admin.email, password)
    page = _changelist(client)
    assert page.status_code == 200
    orgs = {e.organization for e in page.context["cl"].queryset}
    assert orgs == {"Acme"}


def test_org_admin_cannot_open_a_foreign_event(client, acme_admin, populated, password):
    sign_in(client, acme_admin.email, password)
    foreign = AuditEvent.objects.filter(organization="Globex").first()
    assert client.get(f"/admin/jeto_identity/auditevent/{foreign.pk}/change/").status_code == 404
    own = AuditEvent.objects.filter(organization="Acme").first()
    assert client.get(f"/admin/jeto_identity/auditevent/{own.pk}/change/").status_code == 200


def test_audit_admin_is_read_only_even_for_superusers(client, superuser, populated, password):
    sign_in(client, superuser.email, password)
    assert _changelist(client).context["cl"].queryset.count() == AuditEvent.objects.count()
    assert client.get("/admin/jeto_identity/auditevent/add/").status_code == 403
    event = AuditEvent.objects.first()
    assert client.post(f"/admin/jeto_identity/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.post(f"/admin/jeto_identity/auditevent/{event.pk}/change/", {"event": "x"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk, event=event.event).exists()


def test_filter_and_search(client, acme_admin, populated, acme_member, password):
    sign_in(client, acme_admin.email, password)
    failures = _changelist(client, event=audit.SIGN_IN_FAILURE).context["cl"].queryset
    assert {e.event for e in failures} == {audit.SIGN_IN_FAILURE}
    found = _changelist(client, q=acme_member.email).context["cl"].queryset
    assert {e.subject for e in found} == {acme_member.email}


def test_csv_export_is_scoped_and_formula_safe(client, acme_admin, populated, password):
    sign_in(client, acme_admin.email, password)
    ids = list(AuditEvent.objects.values_list("pk", flat=True))  # includes a foreign event id
    response = client.post(
        "/admin/jeto_identity/auditevent/", {"action": "export_csv", "_selected_action": [str(i) for i in ids]}
    )
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    body = response.content.decode()
    assert "Globex" not in body and "Acme" in body
    assert "'=cmd" in body and ",=cmd" not in body


def test_member_cannot_see_the_audit_log(client, acme_member, populated, password):
    sign_in(client, acme_member.email, password)
    assert _changelist(client).status_code == 302  # to the admin login


# -- retention ------------------------------------------------------------------------------------------------


def test_cleanup_deletes_events_older_than_retention(settings, acme):
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "AUDIT_RETENTION_DAYS": 30}
    old = audit.record(audit.SIGN_IN_SUCCESS, subject="old@acme.test")
    AuditEvent.objects.filter(pk=old.pk).update(time=timezone.now() - timedelta(days=31))
    recent = audit.record(audit.SIGN_IN_SUCCESS, subject="recent@acme.test")
    call_command("jeto_cleanup", "--only", "audit", "--batch-size", "1")
    assert not AuditEvent.objects.filter(pk=old.pk).exists()
    assert AuditEvent.objects.filter(pk=recent.pk).exists()


def test_retention_zero_keeps_everything(settings):
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "AUDIT_RETENTION_DAYS": 0}
    old = audit.record(audit.SIGN_IN_SUCCESS, subject="old@acme.test")
    AuditEvent.objects.filter(pk=old.pk).update(time=timezone.now() - timedelta(days=3650))
    call_command("jeto_cleanup", "--only", "audit")
    assert AuditEvent.objects.filter(pk=old.pk).exists()


def test_control_characters_never_reach_the_database_or_log(client):
    event = audit.record(audit.SIGN_IN_FAILURE, subject="evil\x00@x.test\r\nforged", reason="a\x00b", outcome="failure")
    event.refresh_from_db()
    assert event.subject == "evil@x.testforged" and event.details["reason"] == "ab"
