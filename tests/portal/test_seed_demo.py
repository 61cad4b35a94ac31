from io import StringIO

import pytest
from django.core.management import call_command

from jeto_identity.models import Membership, Organization, OrganizationDomain, User

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
