"""Shared fixtures: organisations, users and memberships built the way the portal builds them."""

from __future__ import annotations

import pytest

from jeto_identity.models import Membership, Organization, OrganizationDomain, Role, User
from tests.saml_support import metadata_server, saml_idp  # noqa: F401  (the SAML test IdP)
from tests.simplesamlphp_support import simplesamlphp  # noqa: F401  (an external SAML IdP)
from tests.sso_support import (  # noqa: F401  (shared SSO fixtures)
    black_hole,
    closed_port,
    expired_token_idp,
    idp,
    sso_env,
    strict_idp,
)

# Application connections' fixtures (acme_conn, acme_writer, globex_conn).
pytest_plugins = ["tests.api_clients_support", "tests.dns_support", "tests.scim_support"]  # dns: a loopback DNS server

PASSWORD = "a-long-enough-test-passphrase"


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def make_user(db):
    def _make(email: str, password: str = PASSWORD, **extra) -> User:
        return User.objects.create_user(email=email, password=password, **extra)

    return _make


@pytest.fixture
def acme(db) -> Organization:
    org = Organization.objects.create(name="Acme", slug="acme")
    OrganizationDomain.objects.create(organization=org, domain="acme.test", verified=True)
    return org


@pytest.fixture
def globex(db) -> Organization:
    org = Organization.objects.create(name="Globex", slug="globex")
    OrganizationDomain.objects.create(organization=org, domain="globex.test", verified=True)
    return org


@pytest.fixture
def acme_admin(make_user, acme) -> User:
    user = make_user("ada@acme.test", is_staff=True)
    Membership.objects.create(user=user, organization=acme, role=Role.ADMIN)
    return user


@pytest.fixture
def acme_owner(make_user, acme) -> User:
    user = make_user("olga@acme.test", is_staff=True)
    Membership.objects.create(user=user, organization=acme, role=Role.OWNER)
    return user


@pytest.fixture
def acme_member(make_user, acme) -> User:
    user = make_user("max@acme.test", first_name="Max", last_name="Member")
    Membership.objects.create(user=user, organization=acme, role=Role.MEMBER)
    return user


@pytest.fixture
def globex_admin(make_user, globex) -> User:
    user = make_user("gina@globex.test", is_staff=True)
    Membership.objects.create(user=user, organization=globex, role=Role.OWNER)
    return user


@pytest.fixture
def globex_member(make_user, globex) -> User:
    user = make_user("gus@globex.test")
    Membership.objects.create(user=user, organization=globex, role=Role.MEMBER)
    return user


@pytest.fixture
def superuser(make_user) -> User:
    return make_user("root@jeto.test", is_staff=True, is_superuser=True)


def sign_in(client, email: str, password: str = PASSWORD, next_url: str = ""):
    """Drive the email-first pages with the test client; returns the password step's response."""
    client.post("/login/", {"email": email, "next": next_url})
    return client.post("/login/password/", {"password": password})


@pytest.fixture(autouse=True)
def _fresh_throttle_counters():
    """Brute-force counters live in the cache; every test starts with none (the suite signs in a lot)."""
    from django.core.cache import cache

    cache.clear()
    yield
