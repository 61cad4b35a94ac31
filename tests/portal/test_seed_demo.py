from io import StringIO

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import call_command

from jeto_identity.connections import services as clients
from jeto_identity.models import Membership, OAuthClient, Organization, OrganizationDomain, RelyingParty, User
from tests.api_clients_support import request_token

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_prints_credentials():
    first = StringIO()
    call_command("seed_demo", stdout=first)
    counts = (User.objects.count(), Organization.objects.count(), Membership.objects.count())
    second = StringIO()
    call_command("seed_demo", stdout=second)
    assert counts == (User.objects.count(), Organization.objects.count(), Membership.objects.count())
    out = second.getvalue()
    for email in ("admin@jeto.test", "ada@acme.test", "max@acme.test", "gina@globex.test"):
        assert email in out
    assert "correct-horse-battery-staple" in out
    assert OrganizationDomain.objects.get(domain="acme.test").verified
    assert User.objects.get(email="admin@jeto.test").is_superuser
    ada = User.objects.get(email="ada@acme.test")
    assert ada.is_staff and not ada.is_superuser and ada.check_password("correct-horse-battery-staple")


def test_demo_org_admin_sees_acme_and_not_globex(client):
    call_command("seed_demo", stdout=StringIO())
    client.post("/login/", {"email": "ada@acme.test"})
    client.post("/login/password/", {"password": "correct-horse-battery-staple"})
    page = client.get("/admin/jeto_identity/organization/")
    assert [o.name for o in page.context["cl"].queryset] == ["Acme"]


def test_seed_demo_issues_an_acme_client_and_rekeys_on_rerun(client):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    text = out.getvalue()
    client_id = text.split("client_id:")[1].split()[0]
    secret = text.split("client_secret:")[1].split()[0]
    c = OAuthClient.objects.get(client_id=client_id)
    assert c.organization.slug == "acme" and clients.check_client_secret(c, secret)
    out2 = StringIO()
    call_command("seed_demo", stdout=out2)
    secret2 = out2.getvalue().split("client_secret:")[1].split()[0]
    assert OAuthClient.objects.filter(organization__slug="acme").count() == 1
    assert request_token(client, client_id, secret).status_code == 401
    assert request_token(client, client_id, secret2).status_code == 200


def test_seed_demo_registers_the_demo_relying_party_idempotently():
    first, second = StringIO(), StringIO()
    call_command("seed_demo", stdout=first)
    call_command("seed_demo", stdout=second)
    rp = RelyingParty.objects.get(client_id="jeto-demo-app")
    assert RelyingParty.objects.count() == 1
    assert "/.well-known/openid-configuration" in second.getvalue() and "jeto-demo-app" in second.getvalue()
    secret_line = next(line for line in second.getvalue().splitlines() if "client secret" in line)
    assert check_password(secret_line.split()[2], rp.client_secret)


def test_the_demo_organisations_plan_includes_everything_even_with_a_restrictive_default(settings):
    from jeto_identity.orgadmin import plans

    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "DEFAULT_PLAN": {"features": []}}
    call_command("seed_demo", stdout=StringIO())
    for slug in ("acme", "globex"):
        org = Organization.objects.get(slug=slug)
        assert all(plans.is_entitled(org, feature) for feature in plans.FEATURES), slug
