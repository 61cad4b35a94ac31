"""Accessibility in a real browser: what Chromium tells a screen reader, and axe-core (WCAG 2.1 A/AA) on our pages.

axe-core comes from the `axe-playwright-python` wheel, which bundles axe.min.js: nothing is fetched at run time.
"""

from __future__ import annotations

import pytest
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from axe_playwright_python.sync_playwright import Axe

from tests.e2e.conftest import sign_in_with_password
from tests.identity.mfa_support import enrol
from tests.identity.oidc_support import REDIRECT_URI, register_rp

pytestmark = pytest.mark.e2e

WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def assert_no_axe_violations(page, what: str) -> None:
    results = Axe().run(page, options=WCAG_21_AA)
    assert results.violations_count == 0, f"{what}: {results.generate_report()}"


def accessible_description(page, node_id: str) -> str:
    """The description Chromium's accessibility tree gives the element (what a screen reader reads after the name)."""
    cdp = page.context.new_cdp_session(page)
    try:
        root = cdp.send("DOM.getDocument", {"depth": 0})["root"]
        dom_node = cdp.send("DOM.querySelector", {"nodeId": root["nodeId"], "selector": f"#{node_id}"})
        tree = cdp.send("Accessibility.getPartialAXTree", {"nodeId": dom_node["nodeId"], "fetchRelatives": False})
    finally:
        cdp.detach()
    node = next(n for n in tree["nodes"] if not n.get("ignored"))  # the element itself comes first
    return node.get("description", {}).get("value", "")


def test_wrong_password_reason_is_the_fields_accessible_description(page, acme_member):
    sign_in_with_password(page, "max@acme.test", "not-the-password-at-all")
    page.wait_for_url("**/login/password/")
    field = page.get_by_label("Password")
    assert field.get_attribute("aria-invalid") == "true"
    assert "That email and password don't match" in accessible_description(page, "id_password")


def test_password_rules_are_the_new_password_fields_description(page, acme_member, password):
    sign_in_with_password(page, "max@acme.test", password)
    page.wait_for_url("**/account/")
    page.goto("/account/password/")
    assert "characters" in accessible_description(page, "id_new_password1")


def test_login_and_account_pages_have_no_axe_violations(page, acme_member, password):
    page.goto("/login/")
    assert_no_axe_violations(page, "login email step")

    page.get_by_label("Email address").fill("max@acme.test")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/login/password/")
    assert_no_axe_violations(page, "login password step")
    page.get_by_label("Password").fill("not-the-password-at-all")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("alert").first.wait_for()
    assert_no_axe_violations(page, "login password step with an error")

    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/account/")
    assert_no_axe_violations(page, "account page")

    page.goto("/account/mfa/setup/")
    assert_no_axe_violations(page, "MFA setup")
    page.get_by_label("Code from your app").fill("000000")
    page.get_by_role("button", name="Verify and turn on").click()
    page.get_by_role("alert").first.wait_for()
    assert_no_axe_violations(page, "MFA setup with an error")

    page.goto("/account/password/")
    assert_no_axe_violations(page, "password change")
    page.get_by_label("Old password").fill("wrong")
    page.get_by_label("New password", exact=True).fill("short")
    page.get_by_label("New password confirmation").fill("other")
    page.get_by_role("button", name="Change password").click()
    page.get_by_role("alert").first.wait_for()
    assert_no_axe_violations(page, "password change with errors")


def test_mfa_challenge_has_no_axe_violations(page, acme_member, password):
    enrol(acme_member)
    sign_in_with_password(page, "max@acme.test", password)
    page.wait_for_url("**/login/mfa/")
    assert_no_axe_violations(page, "MFA challenge")
    page.get_by_role("textbox").fill("000000")
    page.get_by_role("button", name="Verify").click()
    page.get_by_role("alert").first.wait_for()
    assert_no_axe_violations(page, "MFA challenge with an error")
    assert "didn't work" in accessible_description(page, "id_code")


def test_consent_page_has_no_axe_violations(page, live_server, acme_member, password):
    registration = register_rp("Acme Wiki")
    rp = OAuth2Session(
        registration.client.client_id,
        registration.client_secret,
        scope="openid email profile",
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
    )
    authorize_url, _ = rp.create_authorization_url(
        f"{live_server.url}/o/authorize/", code_verifier=generate_token(48), nonce=generate_token(16)
    )
    page.goto(authorize_url)
    page.wait_for_url("**/login/**")
    page.get_by_label("Email address").fill("max@acme.test")
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/o/authorize/**")
    assert page.get_by_role("heading", name="Allow Acme Wiki to sign you in?").is_visible()
    assert_no_axe_violations(page, "consent page")
