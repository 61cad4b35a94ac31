"""Enrolment from the account page, then sign-in with the challenge, over HTTP with Django's test client."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django_otp import DEVICE_ID_SESSION_KEY

from jeto_identity.login import services as login_service
from jeto_identity.mfa import services as mfa
from jeto_identity.mfa import stage as mfa_login

from ..conftest import sign_in
from .mfa_support import code_for, code_for_key, enrol, force_verified_login, secret_from_page, sign_in_fully

PROTECTED = ["/account/", "/admin/", "/account/password/", "/account/mfa/remove/", "/account/mfa/recovery-codes/new/"]


def test_enrol_from_account_page_then_sign_in_with_a_code(client, acme_member, password):
    assert sign_in(client, acme_member.email, password).url == "/account/"
    account = client.get("/account/").content.decode()
    assert "Two-step verification:" in account and "Set up an authenticator app" in account

    setup = client.get("/account/mfa/setup/")
    html = setup.content.decode()
    assert setup.status_code == 200 and "<svg" in html and "otpauth" not in html  # QR inline; URI not as text
    key = secret_from_page(html)
    assert client.get("/account/mfa/setup/").content.decode().count(html.split('mfa-secret">')[1][:20]) == 1  # stable
    assert not mfa.has_mfa(acme_member)  # nothing counts before a valid code

    bad = client.post("/account/mfa/setup/", {"code": "12345"})
    assert bad.status_code == 400 and not mfa.has_mfa(acme_member)
    ok = client.post("/account/mfa/setup/", {"code": code_for_key(key, offset_steps=-1)})
    assert ok.status_code == 302 and ok.url.startswith("/account/mfa/recovery-codes/")
    assert mfa.has_mfa(acme_member)

    codes_page = client.get("/account/mfa/recovery-codes/").content.decode()
    download = client.get("/account/mfa/recovery-codes/download/")
    assert download["Content-Type"].startswith("text/plain")
    assert download["Content-Disposition"] == 'attachment; filename="recovery-codes.txt"'
    codes = [line for line in download.content.decode().splitlines() if len(line) == 9 and line[4] == "-"]
    assert len(codes) == 10 and all(c in codes_page for c in codes)
    client.post("/account/mfa/recovery-codes/", {})
    assert client.get("/account/mfa/recovery-codes/").status_code == 302  # shown once
    assert client.get("/account/mfa/recovery-codes/download/").status_code == 302
    assert 'data-testid="recovery-codes-left">10<' in client.get("/account/").content.decode()

    client.post("/logout/")
    response = sign_in(client, acme_member.email, password)
    assert response.url == "/login/mfa/"
    assert client.post("/login/mfa/", {"code": code_for_key(key)}).url == "/account/"
    assert client.get("/account/").status_code == 200


def test_password_alone_leaves_the_session_anonymous_everywhere(client, acme_member, password):
    enrol(acme_member)
    response = sign_in(client, acme_member.email, password, next_url="/account/")
    assert response.status_code == 302 and response.url == "/login/mfa/"
    assert SESSION_KEY not in client.session
    for url in PROTECTED:
        reply = client.get(url)
        assert reply.status_code == 302, url
        assert reply.url.startswith("/login/") or reply.url.startswith("/admin/login/"), (url, reply.url)
    # The login page itself does not treat the half-done sign-in as signed in.
    assert client.get("/login/").status_code == 200


def test_password_alone_never_reaches_the_authorization_endpoint(client, acme_member, password):
    """The provider's authorization view (/o/authorize/) sees an anonymous user and sends it to login."""
    from tests.identity.oidc_support import authorize_params, authorize_url, pkce_pair, register_rp

    rp = register_rp("MFA RP", trusted=True).client
    enrol(acme_member)
    sign_in(client, acme_member.email, password)
    reply = client.get(authorize_url(authorize_params(rp.client_id, pkce_pair()[1])))
    assert reply.status_code == 302 and reply.url.startswith("/login/"), reply
    assert "code=" not in reply.url


def test_second_factor_signs_in_rotates_session_and_records_amr(client, acme_member, password):
    device, _ = enrol(acme_member)
    sign_in(client, acme_member.email, password, next_url="/account/password/")
    before = client.session.session_key
    response = client.post("/login/mfa/", {"code": code_for(device)})
    assert response.status_code == 302 and response.url == "/account/password/"
    session = client.session
    assert session.session_key != before
    assert session[SESSION_KEY] == str(acme_member.pk)
    assert session[login_service.AMR_SESSION_KEY] == ["pwd", "otp", "mfa"]
    assert session[DEVICE_ID_SESSION_KEY] == device.persistent_id  # request.user.is_verified()
    assert login_service.PENDING_KEY not in session


def test_without_mfa_amr_is_password_only(client, acme_member, password):
    sign_in(client, acme_member.email, password)
    assert client.session[login_service.AMR_SESSION_KEY] == ["pwd"]


def test_wrong_codes_then_pending_login_is_abandoned(client, acme_member, password, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # isolate the per-login counter from device throttling
    device, _ = enrol(acme_member)
    sign_in(client, acme_member.email, password)
    for _ in range(4):
        reply = client.post("/login/mfa/", {"code": "000000"})
        assert reply.status_code == 400 and b"didn&#x27;t work" in reply.content
    reply = client.post("/login/mfa/", {"code": "000000"})
    assert reply.status_code == 302 and reply.url == "/login/"
    assert login_service.PENDING_KEY not in client.session
    # A right code now is useless: the pending sign-in is gone.
    assert client.post("/login/mfa/", {"code": code_for(device)}).url == "/login/"
    assert SESSION_KEY not in client.session


def test_throttled_challenge_answers_429(client, acme_member, password):
    device, _ = enrol(acme_member)
    sign_in(client, acme_member.email, password)
    assert client.post("/login/mfa/", {"code": "000000"}).status_code == 400
    reply = client.post("/login/mfa/", {"code": code_for(device)})
    assert reply.status_code == 429 and b"Wait" in reply.content
    assert SESSION_KEY not in client.session


def test_replayed_code_is_refused_on_the_next_sign_in(client, acme_member, password):
    device, _ = enrol(acme_member)
    code = code_for(device)
    assert sign_in_fully(client, acme_member, device, password).url == "/account/"
    client.post("/logout/")
    sign_in(client, acme_member.email, password)
    assert client.post("/login/mfa/", {"code": code}).status_code == 400
    assert SESSION_KEY not in client.session


def test_recovery_code_signs_in_once(client, acme_member, password):
    _, codes = enrol(acme_member)
    sign_in(client, acme_member.email, password)
    reply = client.post("/login/mfa/", {"code": codes[0]})
    assert reply.url == "/account/"
    assert client.session[login_service.AMR_SESSION_KEY] == ["pwd", "otp", "mfa"]
    assert "9 left" in client.get("/account/").content.decode()
    client.post("/logout/")
    sign_in(client, acme_member.email, password)
    assert client.post("/login/mfa/", {"code": codes[0]}).status_code == 400
    assert SESSION_KEY not in client.session


def test_challenge_without_pending_login_goes_to_login(client, acme_member):
    enrol(acme_member)
    assert client.get("/login/mfa/").url == "/login/"
    assert client.post("/login/mfa/", {"code": "123456"}).url == "/login/"
    client.post("/login/", {"email": acme_member.email})  # email only, no password yet
    assert client.get("/login/mfa/").url == "/login/"


def test_password_only_session_of_a_user_with_mfa_is_signed_out(client, acme_member):
    """E.g. a session from before the user enrolled on another device: it must pass the second factor."""
    enrol(acme_member)
    client.force_login(acme_member)
    reply = client.get("/account/")
    assert reply.status_code == 302 and reply.url == "/login/?next=%2Faccount%2F"
    assert SESSION_KEY not in client.session


def test_removing_the_app_needs_the_password_again(client, acme_member, password):
    device, _ = enrol(acme_member)
    force_verified_login(client, acme_member, device)  # no recent password in this session
    reply = client.get("/account/mfa/remove/")
    assert reply.status_code == 302 and reply.url.startswith("/account/confirm-password/?next=")
    assert client.post("/account/mfa/remove/").status_code == 302 and mfa.has_mfa(acme_member)
    wrong = client.post("/account/confirm-password/", {"password": "nope", "next": "/account/mfa/remove/"})
    assert wrong.status_code == 400
    right = client.post("/account/confirm-password/", {"password": password, "next": "/account/mfa/remove/"})
    assert right.url == "/account/mfa/remove/"
    assert client.post("/account/mfa/remove/").url == "/account/"
    assert not mfa.has_mfa(acme_member) and mfa.recovery_codes_left(acme_member) == 0


def test_regenerating_codes_needs_the_password_again(client, acme_member, password):
    device, old = enrol(acme_member)
    force_verified_login(client, acme_member, device)
    assert client.post("/account/mfa/recovery-codes/new/").url.startswith("/account/confirm-password/")
    client.post("/account/confirm-password/", {"password": password, "next": "/account/"})
    assert client.post("/account/mfa/recovery-codes/new/").url == "/account/mfa/recovery-codes/"
    page = client.get("/account/mfa/recovery-codes/").content.decode()
    assert not any(code in page for code in old)


def test_recovery_code_session_regenerates_codes_and_stays_signed_in(client, acme_member, password):
    """The lost-phone path: sign in with a recovery code, then get a new set; the session keeps its device."""
    _, old = enrol(acme_member)
    sign_in(client, acme_member.email, password)
    assert client.post("/login/mfa/", {"code": old[0]}).url == "/account/"
    assert client.post("/account/mfa/recovery-codes/new/").url == "/account/mfa/recovery-codes/"
    page = client.get("/account/mfa/recovery-codes/")
    assert page.status_code == 200 and SESSION_KEY in client.session
    new = re.findall(r"\b[a-z2-7]{4}-[a-z2-7]{4}\b", page.content.decode())
    assert len(set(new)) == mfa.RECOVERY_CODE_COUNT and not set(new) & set(old)
    assert client.get("/account/").status_code == 200
    assert mfa.recovery_codes_left(acme_member) == mfa.RECOVERY_CODE_COUNT
    assert mfa.verify_second_factor(acme_member, new[0]).ok
    assert not mfa.verify_second_factor(acme_member, old[1]).ok


def test_a_fresh_sign_in_counts_as_recent(client, acme_member, password):
    device, _ = enrol(acme_member)
    sign_in_fully(client, acme_member, device, password)
    assert client.get("/account/mfa/remove/").status_code == 200


@pytest.mark.parametrize("next_url", ["https://evil.test/", "//evil.test", "/\\evil.test"])
def test_reauth_next_is_local_only(client, acme_member, password, next_url):
    device, _ = enrol(acme_member)
    force_verified_login(client, acme_member, device)
    reply = client.post("/account/confirm-password/", {"password": password, "next": next_url})
    assert reply.url == "/account/"


def test_account_setup_for_an_enrolled_user_does_not_issue_a_new_secret(client, acme_member):
    device, _ = enrol(acme_member)
    force_verified_login(client, acme_member, device)
    assert client.get("/account/mfa/setup/").url == "/account/"
    assert client.post("/account/mfa/setup/", {"code": code_for(device)}).url == "/account/"


def test_second_factor_must_follow_the_password_within_the_time_limit(client, acme_member, password):
    device, _ = enrol(acme_member)
    sign_in(client, acme_member.email, password)
    session = client.session
    session[mfa_login.STAGE_STARTED_KEY]["at"] -= 601
    session.save()
    assert client.post("/login/mfa/", {"code": code_for(device)}).url == "/login/"
    assert SESSION_KEY not in client.session and login_service.PENDING_KEY not in client.session


def test_system_checks_require_the_policy_middleware(settings):
    from jeto_identity.mfa.checks import check_mfa_middleware as check_installation

    ids = lambda: {e.id for e in check_installation(None)}  # noqa: E731
    assert not ids() & {"jeto_identity.E202", "jeto_identity.E203"}
    mw = "jeto_identity.mfa.middleware.MFAPolicyMiddleware"
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != mw]
    assert "jeto_identity.E202" in ids()
    settings.MIDDLEWARE = [mw, *settings.MIDDLEWARE]
    assert "jeto_identity.E203" in ids()
