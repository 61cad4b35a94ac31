"""services.sso without HTTP: routing, linking and provisioning rules, role mapping, atomicity."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from jeto_identity.login import services as login_service
from jeto_identity.models import FederatedIdentity, Membership, Role, User
from jeto_identity.sso import services as sso
from tests.sso_support import make_connection

pytestmark = pytest.mark.django_db

ISSUER = "https://idp.acme.example"


@pytest.fixture
def connection(acme):
    return make_connection(acme, ISSUER)


def claims(sub="sub-1", email="new@acme.test", **extra) -> dict:
    return {"sub": sub, "email": email, "email_verified": True, **extra}


def request_with_session(session=None):
    request = RequestFactory().get("/")
    request.session = session if session is not None else {}
    return request


def test_router_depends_on_the_domain_only(connection, acme_member):
    request = request_with_session()
    known = sso.email_router(request, login_service.PendingLogin(email="max@acme.test"))
    unknown = sso.email_router(request, login_service.PendingLogin(email="zz@acme.test"))
    assert known == unknown == f"/sso/{connection.public_id}/start/"
    assert sso.email_router(request, login_service.PendingLogin(email="x@elsewhere.test")) is None
    assert sso.email_router(request, login_service.PendingLogin(email="not-an-email")) is None


def test_router_is_skipped_in_break_glass_sessions(connection):
    request = request_with_session({sso.BREAK_GLASS_SESSION_KEY: True})
    assert sso.email_router(request, login_service.PendingLogin(email="max@acme.test")) is None


def test_jit_creates_user_membership_and_link(connection):
    user = sso.resolve_user(connection, claims(given_name="Ann", family_name="Lee"))
    assert (user.email, user.first_name, user.last_name, user.email_verified) == ("new@acme.test", "Ann", "Lee", True)
    assert Membership.objects.get(user=user).role == Role.MEMBER
    assert FederatedIdentity.objects.get(user=user).subject == "sub-1"


def test_jit_is_all_or_nothing(connection, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(FederatedIdentity.objects, "create", boom)
    with pytest.raises(RuntimeError):
        sso.resolve_user(connection, claims())
    assert not User.objects.filter(email="new@acme.test").exists()
    assert not Membership.objects.exists()


def test_email_verified_as_string_true_counts(connection, acme_member):
    assert sso.resolve_user(connection, claims(email="max@acme.test", email_verified="true")) == acme_member


def test_custom_email_verified_claim(acme):
    entra = make_connection(acme, ISSUER, email_verified_claim="xms_edov")
    verified = {"sub": "s", "email": "max@acme.test", "xms_edov": True, "email_verified": False}
    max_ = User.objects.create_user("max@acme.test")
    assert sso.resolve_user(entra, verified) == max_


@pytest.mark.parametrize(
    "bad",
    [{"sub": ""}, {"sub": None}, {"sub": "x" * 256}, {"email": None}, {"email": "no-at-sign"}, {"email": 42}],
)
def test_malformed_claims_are_refused(connection, bad):
    with pytest.raises(sso.SSOLoginRefused):
        sso.resolve_user(connection, {**claims(), **bad})
    assert not User.objects.exists()


def test_existing_account_in_org_domain_without_membership_joins_when_jit_is_on(connection, make_user):
    user = make_user("solo@acme.test")
    assert sso.resolve_user(connection, claims(email="solo@acme.test")) == user
    assert Membership.objects.filter(user=user, organization=connection.organization).exists()


def test_existing_account_without_membership_is_refused_when_jit_is_off(acme, make_user):
    connection = make_connection(acme, ISSUER, jit_provisioning=False)
    make_user("solo@acme.test")
    with pytest.raises(sso.SSOLoginRefused) as refused:
        sso.resolve_user(connection, claims(email="solo@acme.test"))
    assert refused.value.reason == "not_member"
    assert not FederatedIdentity.objects.exists()


def test_an_account_links_to_one_identity_per_connection(connection, acme_member):
    sso.resolve_user(connection, claims(sub="first", email="max@acme.test"))
    with pytest.raises(sso.SSOLoginRefused) as refused:
        sso.resolve_user(connection, claims(sub="second", email="max@acme.test"))
    assert refused.value.reason == "relinked"


def test_same_sub_on_two_connections_is_two_identities(acme, globex):
    acme_conn = make_connection(acme, ISSUER)
    globex_conn = make_connection(globex, ISSUER)
    a = sso.resolve_user(acme_conn, claims(sub="shared", email="a@acme.test"))
    g = sso.resolve_user(globex_conn, claims(sub="shared", email="g@globex.test"))
    assert a != g
    # Matched on sub: the email the IdP asserts now doesn't move the identity to another account.
    assert sso.resolve_user(globex_conn, claims(sub="shared", email="a@acme.test")) == g
    with pytest.raises(sso.SSOLoginRefused) as refused:
        sso.resolve_user(globex_conn, claims(sub="other", email="a@acme.test"))
    assert refused.value.reason == "foreign_domain"


def test_role_mapping_takes_the_highest_match_and_never_touches_owners(acme, acme_owner):
    connection = make_connection(
        acme, ISSUER, role_claim="groups", role_mapping={"staff": "member", "admins": "admin", "x": "owner"}
    )
    assert sso.mapped_role(connection, {"groups": ["staff", "admins"]}) == Role.ADMIN
    assert sso.mapped_role(connection, {"groups": "staff"}) == Role.MEMBER
    assert sso.mapped_role(connection, {"groups": ["x"]}) == Role.MEMBER  # "owner" is never granted
    assert sso.mapped_role(connection, {"groups": 7}) == Role.MEMBER
    assert sso.mapped_role(connection, {}) == Role.MEMBER
    with pytest.raises(sso.LinkConfirmationRequired):  # an owner links only after confirming it's them
        sso.resolve_user(connection, claims(email="olga@acme.test", groups=["staff"]))
    sso.resolve_user(connection, claims(email="olga@acme.test", groups=["staff"]), confirmed_user=acme_owner)
    assert Membership.objects.get(user=acme_owner, organization=acme).role == Role.OWNER


def test_default_role_admin(acme):
    connection = make_connection(acme, ISSUER, default_role=Role.ADMIN)
    user = sso.resolve_user(connection, claims())
    assert Membership.objects.get(user=user).role == Role.ADMIN


def test_enforcement_is_per_verified_domain(acme, globex):
    acme.sso_enforced = True
    acme.save()
    acme.domains.create(domain="unverified-acme.test", verified=False)
    assert sso.enforcing_organization("MAX@ACME.TEST") == acme
    assert sso.enforcing_organization("x@unverified-acme.test") is None
    assert sso.enforcing_organization("gus@globex.test") is None
    assert sso.password_login_allowed("gus@globex.test", None)
    assert not sso.password_login_allowed("max@acme.test", None)
