"""Passkeys in a real browser: Chromium's virtual authenticator (DevTools WebAuthn domain: ctap2, internal
transport, resident keys, user verification) against the live server. Every ceremony is Chromium's own."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.utils import timezone

from jeto_identity.models import Organization, UserSession, WebAuthnDevice
from tests.e2e.conftest import sign_in_with_password
from tests.identity.mfa_support import code_for, enrol
from tests.identity.oidc_support import REDIRECT_URI, authorize_params, authorize_url, pkce_pair, register_rp

pytestmark = pytest.mark.e2e


def virtual_authenticator(page) -> tuple[object, str]:
    """A platform authenticator (like a laptop's fingerprint reader) that answers every prompt by itself."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


def credentials(cdp, authenticator_id: str) -> list[dict]:
    return cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]


def add_passkey(page, name: str = "This laptop") -> None:
    page.goto("/account/passkeys/add/")
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Create a passkey").click()
    page.wait_for_url("**/account/mfa/recovery-codes/**")
    page.get_by_role("button", name="I have saved my codes").click()


def sign_out(page) -> None:
    page.get_by_role("navigation", name="Account").get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login/")


NO_AUTOFILL = "PublicKeyCredential.isConditionalMediationAvailable = async () => false;"


def test_register_a_passkey_then_sign_in_with_it_alone(page, acme_member, password):
    page.add_init_script(NO_AUTOFILL)  # a browser without passkey autofill: the button is the way in
    cdp, authenticator = virtual_authenticator(page)
    sign_in_with_password(page, acme_member.email, password)
    page.wait_for_url("**/account/")
    add_passkey(page)
    stored = credentials(cdp, authenticator)
    assert len(stored) == 1 and stored[0]["isResidentCredential"] and stored[0]["rpId"] == "localhost"
    device = WebAuthnDevice.objects.get(user=acme_member)
    assert device.discoverable and device.name == "This laptop"
    sign_out(page)

    page.goto("/login/")
    page.get_by_role("button", name="Sign in with a passkey").click()  # no email, no password
    page.wait_for_url("**/account/")
    assert page.get_by_test_id("account-email").inner_text() == acme_member.email
    session = UserSession.objects.filter(user=acme_member, ended_at__isnull=True).get()
    assert session.amr == ["hwk", "mfa"]
    assert credentials(cdp, authenticator)[0]["signCount"] >= 1


def test_the_passkey_autofill_on_the_email_step(page, acme_member, password):
    """Conditional mediation: the email field offers the passkey; the virtual authenticator picks it at once."""
    virtual_authenticator(page)
    sign_in_with_password(page, acme_member.email, password)
    page.wait_for_url("**/account/")
    add_passkey(page)
    sign_out(page)
    page.goto("/login/")
    assert page.get_by_label("Email address").get_attribute("autocomplete") == "username webauthn"
    page.wait_for_url("**/account/")  # nothing typed, nothing clicked
    assert page.get_by_test_id("account-email").inner_text() == acme_member.email


def test_passkey_as_the_second_factor(page, acme_member, password):
    page.add_init_script(NO_AUTOFILL)
    virtual_authenticator(page)
    sign_in_with_password(page, acme_member.email, password)
    page.wait_for_url("**/account/")
    add_passkey(page)
    sign_out(page)
    sign_in_with_password(page, acme_member.email, password)
    page.wait_for_url("**/login/mfa/")
    page.get_by_role("button", name="Use a passkey").click()
    page.wait_for_url("**/account/")
    assert UserSession.objects.filter(user=acme_member, ended_at__isnull=True).get().amr == ["pwd", "hwk", "mfa"]


def test_a_passkey_for_another_origin_is_refused(page, live_server, acme_member, password, settings):
    """Registered at http://localhost:port; the same browser at http://127.0.0.1:port can't use it."""
    page.add_init_script(NO_AUTOFILL)
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1", "localhost"]
    settings.JETO_IDENTITY = {
        **settings.JETO_IDENTITY,
        "WEBAUTHN_RP_ID": "localhost",
        "WEBAUTHN_ORIGINS": [live_server.url],
    }
    virtual_authenticator(page)
    sign_in_with_password(page, acme_member.email, password)
    page.wait_for_url("**/account/")
    add_passkey(page)
    sign_out(page)
    other_origin = live_server.url.replace("localhost", "127.0.0.1")
    page.goto(f"{other_origin}/login/")
    page.get_by_role("button", name="Sign in with a passkey").click()
    error = page.locator("#passkey-error")
    error.wait_for(state="visible")
    assert "can't be used on this address" in error.inner_text()
    page.goto(f"{other_origin}/account/")
    assert "/login/" in page.url


def test_a_removed_passkey_no_longer_signs_in(page, acme_member, password):
    page.add_init_script(NO_AUTOFILL)
    cdp, authenticator = virtual_authenticator(page)
    sign_in_with_password(page, acme_member.email, password)
    page.wait_for_url("**/account/")
    add_passkey(page, "Old phone")
    page.goto("/account/security/")
    page.get_by_test_id("passkey").get_by_role("link", name="Remove").click()
    page.get_by_role("button", name="Remove passkey").click()
    page.wait_for_url("**/account/security/")
    assert not WebAuthnDevice.objects.exists()
    sign_out(page)
    assert len(credentials(cdp, authenticator)) == 1  # the authenticator still offers it...
    page.goto("/login/")
    page.get_by_role("button", name="Sign in with a passkey").click()
    error = page.locator("#passkey-error")
    error.wait_for(state="visible")
    assert "isn't registered" in error.inner_text()  # ...and the server refuses it
    page.goto("/account/")
    assert "/login/" in page.url


def test_phishing_resistant_policy_forces_a_passkey_and_refuses_app_codes(page, acme, acme_member, password):
    page.add_init_script(NO_AUTOFILL)
    device, _ = enrol(acme_member)
    acme.phishing_resistant_only = True
    acme.save()
    Organization.objects.filter(pk=acme.pk).update(phishing_resistant_since=timezone.now() - timedelta(days=30))
    virtual_authenticator(page)

    sign_in_with_password(page, acme_member.email, password)
    page.wait_for_url("**/login/mfa/")
    page.get_by_label("Authentication code").fill(code_for(device))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url("**/account/passkeys/add/**")  # the app code got them here, and nowhere else
    assert page.get_by_test_id("passkey-policy").is_visible()
    page.goto("/account/")
    assert "/account/passkeys/add/" in page.url
    page.get_by_label("Name").fill("Work laptop")
    page.get_by_role("button", name="Create a passkey").click()
    page.wait_for_url("**/account/")  # recovery codes already existed: straight on
    sign_out(page)

    sign_in_with_password(page, acme_member.email, password)
    page.wait_for_url("**/login/mfa/")
    assert page.get_by_label("Authentication code").count() == 0  # no code box any more
    page.get_by_role("button", name="Use a passkey").click()
    page.wait_for_url("**/account/")
    assert page.get_by_test_id("account-email").inner_text() == acme_member.email


def test_end_a_session_from_another_browser(browser, live_server, acme_member, password):
    registration = register_rp("Team wiki", trusted=True)
    laptop = browser.new_context(base_url=live_server.url)
    phone = browser.new_context(
        base_url=live_server.url, user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1"
    )
    try:
        laptop_page, phone_page = laptop.new_page(), phone.new_page()
        for page in (laptop_page, phone_page):
            page.set_default_timeout(15_000)
            sign_in_with_password(page, acme_member.email, password)
            page.wait_for_url("**/account/")

        # The phone's browser (its cookies) signs in to a relying party, which gets a refresh token for that session.
        verifier, challenge = pkce_pair()
        authorized = phone.request.get(
            authorize_url(authorize_params(registration.client.client_id, challenge)), max_redirects=0
        )
        assert authorized.status == 302 and authorized.headers["location"].startswith(REDIRECT_URI)
        code = parse_qs(urlsplit(authorized.headers["location"]).query)["code"][0]
        tokens = requests.post(
            f"{live_server.url}/o/token/",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier,
                "client_id": registration.client.client_id,
                "client_secret": registration.client_secret,
            },
            timeout=10,
        ).json()

        laptop_page.goto("/account/security/")
        rows = laptop_page.get_by_test_id("session")
        assert rows.count() == 2
        assert "this browser" in laptop_page.locator("[data-current=true]").inner_text()
        other = laptop_page.locator("[data-testid=session]:not([data-current])")
        assert "Safari on iOS" in other.inner_text()
        other.get_by_role("button", name="Sign out").click()
        laptop_page.wait_for_url("**/account/security/")
        assert laptop_page.get_by_test_id("session").count() == 1

        phone_page.goto("/account/")
        assert "/login/" in phone_page.url  # its next request is signed out
        refreshed = requests.post(
            f"{live_server.url}/o/token/",
            data={
                "grant_type": "refresh_token",
                "refresh_token": tokens["refresh_token"],
                "client_id": registration.client.client_id,
                "client_secret": registration.client_secret,
            },
            timeout=10,
        )
        assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"
        laptop_page.goto("/account/")
        assert laptop_page.get_by_test_id("account-email").inner_text() == acme_member.email
    finally:
        laptop.close()
        phone.close()


def test_passkey_and_security_pages_have_no_axe_violations(page, acme_member, password):
    from tests.e2e.test_accessibility import assert_no_axe_violations

    page.add_init_script(NO_AUTOFILL)
    virtual_authenticator(page)
    sign_in_with_password(page, acme_member.email, password)
    page.wait_for_url("**/account/")
    page.goto("/account/passkeys/add/")
    assert_no_axe_violations(page, "add a passkey")
    add_passkey(page)
    page.goto("/account/security/")
    assert page.get_by_test_id("passkey").count() == 1 and page.get_by_test_id("session").count() == 1
    assert_no_axe_violations(page, "account security page")
    sign_out(page)
    sign_in_with_password(page, acme_member.email, password)
    page.wait_for_url("**/login/mfa/")
    assert_no_axe_violations(page, "MFA challenge with a passkey")
