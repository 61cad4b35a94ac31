"""A person types their work email, signs in at their organisation's IdP (a real one on loopback), and is back."""

import pytest

from jeto_identity.models import FederatedIdentity, Membership, User
from tests.sso_support import make_connection

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("sso_env")]


def test_email_step_to_idp_and_back_signed_in(page, acme, idp):
    connection = make_connection(acme, idp.url)
    idp.put_user("okta-00u1", email="nora@acme.test", email_verified=True, given_name="Nora")

    page.goto("/login/")
    page.get_by_label("Email address").fill("nora@acme.test")
    page.get_by_role("button", name="Continue").click()

    # At the IdP's own sign-in page (oidc-provider-mock): sign in as this person.
    page.wait_for_url(f"{idp.url}/oauth2/authorize?**")
    assert "login_hint=nora%40acme.test" in page.url
    page.locator("input[name=sub]").fill("okta-00u1")
    page.get_by_role("button", name="Authorize").click()

    page.wait_for_url("**/account/")
    assert page.get_by_test_id("account-email").inner_text() == "nora@acme.test"
    user = User.objects.get(email="nora@acme.test")
    assert FederatedIdentity.objects.filter(connection=connection, subject="okta-00u1", user=user).exists()
    assert Membership.objects.filter(user=user, organization=acme).exists()


def test_enforced_domain_cannot_use_a_password(page, acme, idp, acme_member, password):
    acme.sso_enforced = True
    acme.save()
    make_connection(acme, idp.url, enabled=False)
    page.goto("/login/")
    page.get_by_label("Email address").fill("max@acme.test")
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    assert "/login/password/" in page.url
    assert "requires single sign-on" in page.get_by_test_id("sso-required").inner_text()


def test_idp_down_shows_a_clear_page(page, acme, closed_port):
    make_connection(acme, f"http://127.0.0.1:{closed_port}")
    page.goto("/login/")
    page.get_by_label("Email address").fill("max@acme.test")
    page.get_by_role("button", name="Continue").click()
    assert "isn't responding" in page.get_by_role("heading").inner_text()
