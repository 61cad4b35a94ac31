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


def test_org_owner_connects_an_idp_and_a_member_signs_in_through_it(
    page, browser, live_server, acme, acme_owner, password, idp
):
    """Connect in Django admin (an owner's power), test, enable; a member then signs in at the IdP."""
    from tests.e2e.conftest import sign_in_with_password

    sign_in_with_password(page, "olga@acme.test", password)
    page.wait_for_url("**/account/")
    page.goto("/admin/jeto_identity/ssoconnection/add/")
    redirect_uri = page.get_by_test_id("sso-redirect-uri").inner_text()
    assert redirect_uri.startswith(live_server.url + "/sso/") and redirect_uri.endswith("/callback/")
    page.locator("select[name=organization]").select_option(label="Acme")
    page.locator("input[name=name]").fill("Acme IdP")
    page.locator("input[name=issuer]").fill(idp.url + "/.well-known/openid-configuration")
    page.locator("input[name=client_id]").fill("acme-portal")
    page.locator("input[name=client_secret]").fill("secret-from-the-idp")
    page.locator("input[name=_continue]").click()
    page.get_by_test_id("sso-test-connection").click()
    assert "works" in page.locator(".messagelist").inner_text()
    assert page.get_by_test_id("sso-redirect-uri").inner_text() == redirect_uri
    page.locator("input[name=enabled]").check()
    page.locator("input[name=_continue]").click()
    assert page.locator("input[name=enabled]").is_checked()

    idp.put_user("kc-1234", email="mia@acme.test", email_verified=True)
    member = browser.new_context(base_url=live_server.url).new_page()
    member.goto("/login/")
    member.get_by_label("Email address").fill("mia@acme.test")
    member.get_by_role("button", name="Continue").click()
    member.wait_for_url(f"{idp.url}/oauth2/authorize?**")
    assert "redirect_uri=" + redirect_uri.replace(":", "%3A").replace("/", "%2F") in member.url
    member.locator("input[name=sub]").fill("kc-1234")
    member.get_by_role("button", name="Authorize").click()
    member.wait_for_url("**/account/")
    assert member.get_by_test_id("account-email").inner_text() == "mia@acme.test"
    member.context.close()


def test_an_owner_confirms_once_before_the_idp_is_linked_to_their_account(page, acme, acme_owner, password, idp):
    connection = make_connection(acme, idp.url)
    idp.put_user("olga-at-idp", email="olga@acme.test", email_verified=True)
    page.goto("/login/")
    page.get_by_label("Email address").fill("olga@acme.test")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{idp.url}/oauth2/authorize?**")
    page.locator("input[name=sub]").fill("olga-at-idp")
    page.get_by_role("button", name="Authorize").click()

    page.wait_for_url("**/sso/link/")
    assert page.get_by_test_id("link-email").inner_text() == "olga@acme.test"
    assert not FederatedIdentity.objects.exists()
    page.get_by_label("Password").fill("not-her-password-at-all")
    page.get_by_role("button", name="Confirm and link").click()
    assert "/sso/link/" in page.url and not FederatedIdentity.objects.exists()
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Confirm and link").click()
    page.wait_for_url("**/account/")
    assert FederatedIdentity.objects.get(connection=connection, subject="olga-at-idp").user == acme_owner
