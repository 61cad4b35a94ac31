"""Onboarding journeys in a real browser: invite → accept → sign in; apply to the API Integrations programme →
approve → issue a client → token; add a domain → publish its TXT record → verified → sign-in routes to the IdP."""

from __future__ import annotations

import re

import pytest
import requests
from django.core import mail

from jeto_identity.core.mail import wait_for_pending
from jeto_identity.models import Membership, OrganizationDomain, User
from jeto_identity.orgadmin import plans
from tests.e2e.conftest import sign_in_with_password
from tests.sso_support import make_connection

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "a-brand-new-long-passphrase"


def test_invite_accept_and_sign_in(page, browser, live_server, acme, acme_admin, password):
    sign_in_with_password(page, "ada@acme.test", password)
    page.wait_for_url("**/account/")
    page.goto("/admin/jeto_identity/user/add/")
    page.get_by_label("Email address").fill("sam@partner.test")
    page.get_by_label("Organization").select_option(label="Acme")
    page.get_by_label("Role").select_option("admin")
    page.get_by_role("button", name="Save", exact=True).click()
    assert "Invited sam@partner.test to join Acme as Admin" in page.locator(".messagelist").text_content()
    assert not User.objects.filter(email="sam@partner.test").exists()

    wait_for_pending()
    link = re.search(r"(/invitations/[^/\s]+/)", mail.outbox[-1].body).group(1)
    invitee = browser.new_context(base_url=live_server.url).new_page()
    invitee.goto(link)
    invitee.get_by_label("First name").fill("Sam")
    invitee.locator("#id_password").fill(NEW_PASSWORD)
    invitee.locator("#id_password2").fill(NEW_PASSWORD)
    invitee.get_by_test_id("invitation-create").click()
    # The new account signs in through the ordinary pages, its address already filled in.
    invitee.wait_for_url("**/login/**")
    assert invitee.get_by_label("Email address").input_value() == "sam@partner.test"
    invitee.get_by_role("button", name="Continue").click()
    invitee.get_by_label("Password").fill(NEW_PASSWORD)
    invitee.get_by_role("button", name="Sign in").click()
    invitee.wait_for_url("**/account/")
    sam = User.objects.get(email="sam@partner.test")
    assert sam.email_verified and Membership.objects.get(user=sam, organization=acme).role == "admin"
    invitee.goto(link)
    assert "can't be used" in invitee.get_by_role("heading").inner_text()  # single use


def test_apply_approve_issue_a_client_and_get_a_token(
    page, browser, live_server, acme, acme_admin, superuser, password
):
    plans.set_feature(acme, plans.API_CLIENTS, False)
    sign_in_with_password(page, "ada@acme.test", password)
    page.wait_for_url("**/account/")
    page.goto(f"/admin/jeto_identity/organization/{acme.pk}/change/")
    page.get_by_test_id("programme-apply").click()
    assert "API Integrations (Beta) programme terms" in page.get_by_test_id("programme-terms").inner_text()
    page.get_by_label("Organization").select_option(label="Acme")
    page.get_by_label("Purpose").fill("Sync our warehouse")
    page.get_by_label("Contact name").fill("Ada")
    page.get_by_label("Contact email").fill("ada@acme.test")
    page.get_by_label("Expected usage").fill("1 app, 2,000 calls a day")
    page.get_by_label("I accept the programme terms", exact=False).check()
    page.get_by_role("button", name="Save", exact=True).click()
    assert "Application sent" in page.locator(".messagelist").text_content()

    platform = browser.new_context(base_url=live_server.url).new_page()
    sign_in_with_password(platform, superuser.email, password)
    platform.wait_for_url("**/account/")
    platform.goto("/admin/jeto_identity/programmeapplication/")
    platform.get_by_role("link", name="Acme").click()
    platform.get_by_test_id("programme-decide").click()
    platform.get_by_label("Decision").select_option("approve")
    platform.get_by_test_id("programme-submit").click()
    assert "Decision recorded" in platform.locator(".messagelist").text_content()

    page.goto("/admin/jeto_identity/applicationconnection/add/")
    page.get_by_label("Name").fill("Warehouse sync")
    page.get_by_label("Organization").select_option(label="Acme")
    page.get_by_label("org:read", exact=False).check()
    page.get_by_role("button", name="Save", exact=True).click()
    client_id = page.locator("#client-id").inner_text()
    secret = page.locator("#client-secret").inner_text()
    token = requests.post(
        f"{live_server.url}/o/token/", data={"grant_type": "client_credentials"}, auth=(client_id, secret), timeout=10
    )
    assert token.status_code == 200, token.text


@pytest.mark.usefixtures("sso_env")
def test_add_a_domain_publish_the_record_verify_and_sign_in_routes(
    page, browser, live_server, settings, acme, acme_owner, password, idp, dns_server
):
    zone, resolver = dns_server
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "DNS_RESOLVERS": [resolver], "DNS_TIMEOUT": 3.0}
    sign_in_with_password(page, "olga@acme.test", password)
    page.wait_for_url("**/account/")
    make_connection(acme, idp.url)  # Acme's IdP (after the owner signed in: acme.test routes to it now)
    page.goto("/admin/jeto_identity/organizationdomain/add/")
    page.get_by_label("Domain").fill("acme-labs.test")
    page.get_by_label("Organization").select_option(label="Acme")
    page.get_by_role("button", name="Save and continue editing").click()
    name = page.get_by_test_id("txt-name").inner_text()
    value = page.get_by_test_id("txt-value").inner_text()
    assert name == "_jeto-challenge.acme-labs.test"

    page.get_by_test_id("verify-now").click()
    assert "No TXT record" in page.locator(".messagelist").text_content()
    zone.records[name] = ("TXT", [[value]])  # the customer publishes it
    page.get_by_test_id("verify-now").click()
    assert "Verified acme-labs.test" in page.locator(".messagelist").text_content()
    assert OrganizationDomain.objects.get(domain="acme-labs.test").verification_method == "dns"

    idp.put_user("okta-lab1", email="lena@acme-labs.test", email_verified=True)
    person = browser.new_context(base_url=live_server.url).new_page()
    person.goto("/login/")
    person.get_by_label("Email address").fill("lena@acme-labs.test")
    person.get_by_role("button", name="Continue").click()
    person.wait_for_url(f"{idp.url}/oauth2/authorize?**")
    person.locator("input[name=sub]").fill("okta-lab1")
    person.get_by_role("button", name="Authorize").click()
    person.wait_for_url("**/account/")
    assert Membership.objects.filter(user__email="lena@acme-labs.test", organization=acme).exists()
