"""The organisation owning a verified email domain is read once per request, and a change in the request is seen."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from jeto_identity.audit.services import organization_for
from jeto_identity.core.middleware import _current_request
from jeto_identity.core.organizations import verified_domain_owner
from jeto_identity.models import OrganizationDomain
from jeto_identity.sso import services as sso

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_request(rf: RequestFactory):
    token = _current_request.set(rf.get("/"))
    yield
    _current_request.reset(token)


def _domain_reads(queries) -> int:
    return sum("jeto_identity_organizationdomain" in q["sql"] for q in queries.captured_queries)


def test_one_read_per_request_for_every_question_a_sign_in_asks(acme, in_request):
    with CaptureQueriesContext(connection) as queries:
        assert sso.organization_for_email("sam@ACME.test") == acme  # the SSO router
        assert sso.password_login_allowed("sam@acme.test", None)  # the password step's "enforce SSO"
        assert organization_for(email="sam@acme.test") == acme  # the audit event's organisation
    assert _domain_reads(queries) == 1


def test_outside_a_request_nothing_is_remembered(acme):
    with CaptureQueriesContext(connection) as queries:
        verified_domain_owner("acme.test")
        verified_domain_owner("acme.test")
    assert _domain_reads(queries) == 2


def test_unverified_and_unknown_domains_have_no_owner_and_that_is_remembered_too(acme, globex, in_request):
    OrganizationDomain.objects.create(organization=globex, domain="pending.test", verified=False)
    with CaptureQueriesContext(connection) as queries:
        assert verified_domain_owner("pending.test") is None
        assert verified_domain_owner("pending.test") is None
        assert verified_domain_owner("nobody.test") is None
        assert verified_domain_owner("") is None
    assert _domain_reads(queries) == 2


def test_a_domain_moved_or_unverified_in_the_request_is_seen_at_once(acme, globex, in_request):
    assert verified_domain_owner("acme.test") == acme
    domain = OrganizationDomain.objects.get(domain="acme.test")
    domain.verified = False
    domain.save()
    assert verified_domain_owner("acme.test") is None
    domain.verified = True
    domain.save()
    assert verified_domain_owner("acme.test") == acme
    domain.delete()
    assert verified_domain_owner("acme.test") is None


def test_an_organisation_saved_in_the_request_is_read_again(acme, in_request):
    assert sso.enforcing_organization("sam@acme.test") is None
    acme.sso_enforced = True
    acme.save()
    assert sso.enforcing_organization("sam@acme.test") == acme


def test_the_owner_read_answers_as_the_orm_query_with_every_field_loaded(acme, globex):
    from datetime import timedelta

    from django.utils import timezone

    from jeto_identity.models import Organization

    acme.phishing_resistant_only = True
    acme.phishing_resistant_since = timezone.now() - timedelta(days=2)
    acme.mfa_required = True
    acme.save()
    OrganizationDomain.objects.create(organization=globex, domain="unverified.test", verified=False)
    for domain in ("acme.test", "ACME.test", "globex.test", "unverified.test", "nobody.test", "acme.test.evil"):
        expected = (
            OrganizationDomain.objects.select_related("organization")
            .filter(domain=OrganizationDomain.normalize(domain), verified=True)
            .first()
        )
        owner = verified_domain_owner(domain)
        if expected is None:
            assert owner is None, domain
            continue
        assert isinstance(owner, Organization) and owner.pk == expected.organization.pk, domain
        for field in Organization._meta.concrete_fields:  # converted as the ORM converts them (SQLite dates too)
            assert getattr(owner, field.attname) == getattr(expected.organization, field.attname), field.name
        assert not owner.get_deferred_fields()
