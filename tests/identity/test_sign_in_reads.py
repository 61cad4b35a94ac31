"""What a password sign-in reads about the user, and that reading it once answers as the separate reads did.

``mfa.standing`` reads the user's factors and organisations (with their MFA policies) in one query for the sign-in
stage and the MFA policy middleware; the sign-in's audit event takes the organisation from the same read.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jeto_identity.mfa import services as mfa
from jeto_identity.models import AuditEvent, Membership, Organization, Role
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


def _same_as_separate_reads(user) -> mfa.Standing:
    standing = mfa.standing(user)
    assert standing.has_mfa == mfa.has_mfa(user)
    assert standing.policy == mfa.member_policy(user)
    assert {org.pk for org in standing.organizations} == set(
        Membership.objects.filter(user=user).values_list("organization_id", flat=True)
    )
    return standing


def test_a_user_in_no_organisation(make_user):
    user = make_user("solo@example.test")
    standing = _same_as_separate_reads(user)
    assert standing == mfa.Standing(False, mfa.MemberPolicy(), ())
    from jeto_identity.models import EncryptedTOTPDevice

    EncryptedTOTPDevice.objects.create(user=user, name="app", confirmed=True)
    assert _same_as_separate_reads(user).has_mfa is True  # no organisation row to carry it: read on its own


def test_members_with_and_without_factors_and_policies(acme_member, acme, globex):
    assert _same_as_separate_reads(acme_member).has_mfa is False
    acme.mfa_required = True
    acme.save()
    assert _same_as_separate_reads(acme_member).policy.mfa_required is True
    Membership.objects.create(user=acme_member, organization=globex, role=Role.MEMBER)
    globex.phishing_resistant_only = True
    globex.phishing_resistant_since = timezone.now() - timedelta(days=3)
    globex.phishing_resistant_grace_days = 7
    globex.save()
    standing = _same_as_separate_reads(acme_member)
    assert standing.policy.phishing_resistant.required and standing.policy.phishing_resistant.in_grace
    from jeto_identity.mfa.webauthn.models import WebAuthnDevice

    WebAuthnDevice.objects.create(user=acme_member, name="k", credential_id="abc", public_key=b"k", confirmed=True)
    assert _same_as_separate_reads(acme_member).has_mfa is True
    WebAuthnDevice.objects.update(confirmed=False)
    assert _same_as_separate_reads(acme_member).has_mfa is False  # an unconfirmed key counts for nothing


def test_a_password_sign_in_reads_the_users_organisations_once(acme_member, password):
    browser = Client()
    browser.post("/login/", {"email": acme_member.email})
    with CaptureQueriesContext(connection) as queries:
        response = browser.post("/login/password/", {"password": password})
    assert response.status_code == 302 and response["Location"] == "/account/"
    membership_reads = [q for q in queries.captured_queries if "jeto_identity_membership" in q["sql"]]
    assert len(membership_reads) == 1
    event = AuditEvent.objects.filter(event="sign_in.success").get()
    assert event.organization_id is not None  # acme.test is Acme's verified domain


def test_the_sign_in_event_names_the_only_organisation_and_none_for_two(make_user, acme, globex, password):
    person = make_user("pat@example.test")  # a domain no organisation owns: the memberships decide
    Membership.objects.create(user=person, organization=acme, role=Role.MEMBER)
    sign_in(Client(), person.email, password)
    assert AuditEvent.objects.filter(event="sign_in.success").get().organization_id == acme.pk
    Membership.objects.create(user=person, organization=globex, role=Role.MEMBER)
    sign_in(Client(), person.email, password)
    latest = AuditEvent.objects.filter(event="sign_in.success").order_by("-id").first()
    assert latest.organization_id is None and latest.organization == ""
    assert Organization.objects.count() == 2


def test_the_user_read_by_email_is_the_orms_row_with_every_field_converted(acme_member, password):
    from jeto_identity.login.backends import user_by_email
    from jeto_identity.models import User

    Client().post("/login/", {"email": acme_member.email})
    sign_in(Client(), acme_member.email, password)  # last_login set: a date the database converts
    expected = User.objects.get(email=acme_member.email)
    found = user_by_email(acme_member.email)
    assert found is not None and found.pk == expected.pk and not found.get_deferred_fields()
    for field in User._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(expected, field.attname), field.name
    assert found.last_login is not None
    assert user_by_email("nobody@acme.test") is None
    assert user_by_email(acme_member.email.upper()) is None  # the caller normalises, as with the ORM's exact match


def add_globex_membership_stage(request, user, pending):
    """A host's stage after the MFA stage that changes the user's memberships in the same request."""
    Membership.objects.get_or_create(user=user, organization=Organization.objects.get(slug="globex"))
    return None


def test_a_later_stage_that_changes_memberships_is_seen_by_the_sign_in_event(
    settings, make_user, acme, globex, password
):
    settings.JETO_IDENTITY = {
        **settings.JETO_IDENTITY,
        "LOGIN_STAGES": ["jeto_identity.mfa.stage.login_stage", f"{__name__}.add_globex_membership_stage"],
    }
    person = make_user("pat@example.test")
    Membership.objects.create(user=person, organization=acme, role=Role.MEMBER)
    response = sign_in(Client(), person.email, password)
    assert response.status_code == 302 and response["Location"] == "/account/"
    event = AuditEvent.objects.filter(event="sign_in.success").get()
    assert event.organization_id is None  # two memberships now: not the stage's stale "only Acme"
