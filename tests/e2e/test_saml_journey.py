"""In Chromium: an owner connects a SAML IdP (SimpleSAMLphp, started by the suite) in admin by its metadata URL, and
a person signs in on the IdP's own form and comes back signed in — through the IdP's cross-site auto-POST, which
arrives without our SameSite=Lax cookie and is carried on by our self-posting page."""

import pytest
import requests

from jeto_identity.models import FederatedIdentity, SAMLConnection, User

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("sso_env")]


def test_owner_connects_simplesamlphp_and_a_person_signs_in_through_it(
    page, browser, live_server, acme, acme_owner, password, simplesamlphp
):
    from tests.e2e.conftest import sign_in_with_password

    sign_in_with_password(page, "olga@acme.test", password)
    page.wait_for_url("**/account/")
    page.goto("/admin/jeto_identity/samlconnection/add/")
    acs_url = page.get_by_test_id("saml-sp-acs-url").inner_text()
    assert acs_url.startswith(live_server.url + "/sso/") and acs_url.endswith("/saml/acs/")
    page.locator("select[name=organization]").select_option(label="Acme")
    page.locator("input[name=name]").fill("SimpleSAMLphp")
    page.locator("input[name=saml_metadata_url]").fill(simplesamlphp.metadata_url)
    page.locator("input[name=enabled]").check()
    page.locator("input[name=_continue]").click()
    page.get_by_test_id("sso-test-connection").click()
    assert "works" in page.locator(".messagelist").inner_text()
    connection = SAMLConnection.objects.get(organization=acme)
    assert connection.saml_idp_entity_id == simplesamlphp.entity_id

    # The IdP's admin loads our SP metadata, from the URL shown on the page.
    metadata_url = page.get_by_test_id("saml-sp-metadata-url").inner_text()
    simplesamlphp.trust([requests.get(metadata_url, timeout=10).text])

    person = browser.new_context(base_url=live_server.url).new_page()
    person.goto("/login/")
    person.get_by_label("Email address").fill("newbie@acme.test")
    person.get_by_role("button", name="Continue").click()
    person.wait_for_url(f"{simplesamlphp.url}/**")
    person.locator("input[name=username]").fill("newbie")
    person.locator("input[name=password]").fill("newbie-password")
    person.locator("button[type=submit], input[type=submit]").first.click()
    person.wait_for_url("**/account/")
    assert person.get_by_test_id("account-email").inner_text() == "newbie@acme.test"
    user = User.objects.get(email="newbie@acme.test")
    assert FederatedIdentity.objects.get(user=user).connection_id == connection.pk
