"""Journey: an org admin issues an application connection in admin, copies the secret from the one page that
shows it, and a script gets a token with it and reads its organisation from the Jeto API."""

from __future__ import annotations

import pytest
import requests

from tests.e2e.conftest import sign_in_with_password

pytestmark = pytest.mark.e2e


def test_org_admin_issues_a_client_and_a_script_uses_it(page, live_server, acme_admin, globex, password):
    sign_in_with_password(page, "ada@acme.test", password)
    page.wait_for_url("**/account/")

    page.goto("/admin/jeto_identity/applicationconnection/add/")
    page.get_by_label("Name").fill("Warehouse sync")
    organization = page.get_by_label("Organization")
    assert organization.locator("option", has_text="Globex").count() == 0  # only their own organisation
    organization.select_option(label="Acme")
    page.get_by_label("org:read", exact=False).check()
    page.get_by_label("members:read", exact=False).check()
    page.get_by_role("button", name="Save", exact=True).click()

    assert "will not be shown again" in page.locator("#secret-warning").inner_text()
    client_id = page.locator("#client-id").inner_text()
    secret = page.locator("#client-secret").inner_text()
    page.locator("#copy-secret").click()
    assert len(secret) >= 43

    # The script: client_secret_basic at the token endpoint, then the API with the bearer token.
    token = requests.post(
        f"{live_server.url}/o/token/",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
        timeout=10,
    )
    assert token.status_code == 200, token.text
    access_token = token.json()["access_token"]
    org = requests.get(
        f"{live_server.url}/api/v1/organization", headers={"Authorization": f"Bearer {access_token}"}, timeout=10
    )
    assert org.status_code == 200 and org.json()["slug"] == "acme"

    # Never shown again: the admin's next page is the connection's change page, without the secret.
    page.locator("#done").click()
    page.wait_for_url("**/change/")
    assert client_id in page.content()
    assert secret not in page.content()
    page.goto("/admin/jeto_identity/applicationconnection/")
    assert "Warehouse sync" in page.content() and secret not in page.content()
