import pytest

from tests.e2e.conftest import sign_in_with_password

pytestmark = pytest.mark.e2e


def test_member_signs_in_and_reaches_account_page(page, acme_member, password):
    sign_in_with_password(page, "max@acme.test", password)
    page.wait_for_url("**/account/")
    assert page.get_by_test_id("account-email").inner_text() == "max@acme.test"
    assert page.get_by_text("Acme").first.is_visible()


def test_wrong_password_stays_on_password_step_with_message(page, acme_member):
    sign_in_with_password(page, "max@acme.test", "not-the-password-at-all")
    assert "/login/password/" in page.url
    assert page.get_by_role("alert").inner_text().startswith("That email and password don't match")
