"""SSO sign-ins, refusals and account links appear in the organisation's audit log."""

from __future__ import annotations

import pytest

from jeto_identity.audit import services as audit
from jeto_identity.models import AuditEvent
from tests.sso_support import make_connection, sso_sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sso_env")]


def test_sso_sign_in_links_then_signs_in(client, acme, acme_member, idp):
    connection = make_connection(acme, idp.url)
    idp.put_user("sub-max", email="max@acme.test", email_verified=True)
    assert sso_sign_in(client, idp, "max@acme.test", "sub-max").status_code == 302
    (link,) = AuditEvent.objects.filter(event=audit.SSO_LINK)
    assert link.subject_id == acme_member.pk and link.organization_id == acme.pk
    assert link.details["connection"] == connection.name
    (federated,) = AuditEvent.objects.filter(event=audit.SSO_SIGN_IN)
    assert federated.outcome == "success" and federated.subject_id == acme_member.pk
    (signed_in,) = AuditEvent.objects.filter(event=audit.SIGN_IN_SUCCESS)
    assert signed_in.details["method"] == "sso" and signed_in.organization_id == acme.pk


def test_refused_sso_sign_in_is_recorded_with_its_reason(client, acme, acme_member, idp):
    make_connection(acme, idp.url)
    idp.put_user("sub-attacker", email="max@acme.test", email_verified=False)
    assert sso_sign_in(client, idp, "max@acme.test", "sub-attacker").status_code == 403
    (refused,) = AuditEvent.objects.filter(event=audit.SSO_SIGN_IN)
    assert refused.outcome == "denied" and refused.details["reason"] == "email_unverified"
    assert refused.organization_id == acme.pk and refused.subject == "max@acme.test"
    assert not AuditEvent.objects.filter(event=audit.SSO_LINK).exists()
