"""MFA devices (django-otp) and API clients are audited from their models, whatever code path changes them."""

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from jeto_identity.audit import services as audit
from jeto_identity.models import AuditEvent, OAuthClient

pytestmark = pytest.mark.django_db


def _events(name):
    return list(AuditEvent.objects.filter(event=name).order_by("id"))


def test_totp_enrolment_failed_challenge_and_reset(acme_member, acme):
    device = TOTPDevice.objects.create(user=acme_member, name="phone", confirmed=False)
    assert _events(audit.MFA_ENROLLED) == []
    device.confirmed = True
    device.save()
    (enrolled,) = _events(audit.MFA_ENROLLED)
    assert enrolled.subject_id == acme_member.pk and enrolled.organization_id == acme.pk
    assert enrolled.details["device"] == "totp"

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    right = int(totp.token())
    assert device.verify_token(f"{(right + 500_000) % 1_000_000:06d}") is False
    (failed,) = _events(audit.MFA_CHALLENGE_FAILED)
    assert failed.outcome == "failure" and failed.details["failures"] == 1

    device.throttle_reset()
    assert device.verify_token(totp.token()) is True
    assert len(_events(audit.MFA_CHALLENGE_FAILED)) == 1  # success records no failure

    device.delete()
    (reset,) = _events(audit.MFA_RESET)
    assert reset.subject_id == acme_member.pk


def test_recovery_codes_count_as_a_device(acme_member):
    StaticDevice.objects.create(user=acme_member, name="backup", confirmed=True)
    assert _events(audit.MFA_ENROLLED)[0].details["device"] == "static"


def test_api_client_created_rotated_revoked_without_the_secret(acme_admin, acme, caplog):
    client = OAuthClient.objects.create(
        name="Acme sync",
        client_secret="first-secret-value-0123456789",
        client_type="confidential",
        authorization_grant_type="client-credentials",
        organization=acme,
        user=acme_admin,
    )
    client.name = "Acme sync v2"
    client.save()  # not a rotation
    client.client_secret = "second-secret-value-0123456789"
    client.save()
    client.enabled = False
    client.save()
    client.delete()
    names = [e.event for e in AuditEvent.objects.filter(subject=client.client_id).order_by("id")]
    assert names == [
        audit.API_CLIENT_CREATED,
        audit.API_CLIENT_ROTATED,
        audit.API_CLIENT_REVOKED,
        audit.API_CLIENT_REVOKED,
    ]
    assert {e.organization_id for e in AuditEvent.objects.filter(subject=client.client_id)} == {acme.pk}
    dump = str(list(AuditEvent.objects.values())) + caplog.text
    assert "secret-value" not in dump and "pbkdf2" not in dump and "argon2" not in dump


def test_application_connection_services_are_audited(acme, caplog):
    from jeto_identity.connections import services as clients
    from jeto_identity.models import ApplicationConnection

    issued = clients.issue_client(organization=acme, name="CRM", scopes="org:read")
    clients.rotate_secret(issued.client)
    clients.revoke_client(issued.client)
    names = [e.event for e in AuditEvent.objects.filter(subject=issued.client_id).order_by("id")]
    assert names == [audit.API_CLIENT_CREATED, audit.API_CLIENT_ROTATED, audit.API_CLIENT_REVOKED]
    assert issued.client_secret not in str(list(AuditEvent.objects.values())) + caplog.text

    # Saved through the proxy model (what the org admin's admin page saves): still audited.
    proxy = ApplicationConnection.objects.get(pk=issued.client.pk)
    proxy.name = "CRM (renamed)"
    proxy.enabled = True
    proxy.save()
    proxy.enabled = False
    proxy.save()
    assert AuditEvent.objects.filter(subject=issued.client_id, event=audit.API_CLIENT_REVOKED).count() == 2
