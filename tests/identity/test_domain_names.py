"""A domain is stored lower-case without "@", and a name that differs only in that is the same name: a 400."""

from __future__ import annotations

import pytest

from jeto_identity.models import OrganizationDomain

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("typed", ["GLOBEX.test", "@globex.test", " Globex.Test "])
def test_adding_another_organisations_domain_in_another_case_is_a_form_error(client, acme, globex, acme_admin, typed):
    client.force_login(acme_admin)
    response = client.post("/admin/jeto_identity/organizationdomain/add/", {"domain": typed, "organization": acme.pk})
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert list(OrganizationDomain.objects.filter(domain="globex.test").values_list("organization", flat=True)) == [
        globex.pk
    ]


def test_the_organisation_pages_domain_list_refuses_it_too(client, acme, globex, acme_admin):
    client.force_login(acme_admin)
    data = {
        "name": acme.name,
        "mfa_required": "",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "domains-TOTAL_FORMS": "2",
        "domains-INITIAL_FORMS": "1",
        "domains-0-id": str(acme.domains.get().pk),
        "domains-0-organization": str(acme.pk),
        "domains-1-domain": "GLOBEX.test",
        "domains-1-organization": str(acme.pk),
    }
    response = client.post(f"/admin/jeto_identity/organization/{acme.pk}/change/", data)
    assert response.status_code == 200
    assert not OrganizationDomain.objects.filter(organization=acme, domain="globex.test").exists()


def test_a_new_domain_is_stored_in_its_canonical_form(client, acme, acme_admin):
    client.force_login(acme_admin)
    client.post("/admin/jeto_identity/organizationdomain/add/", {"domain": "@New-Acme.TEST", "organization": acme.pk})
    assert OrganizationDomain.objects.filter(organization=acme, domain="new-acme.test", verified=False).exists()
