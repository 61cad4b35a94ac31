"""Brute-force protection: per account and per address, no enumeration, trusted proxies only, admin clears."""

import logging
import re

import pytest
from axes.handlers.proxy import AxesProxyHandler
from django.test import Client, RequestFactory

from jeto_identity.audit import services as audit
from jeto_identity.core.net import client_ip
from jeto_identity.models import AuditEvent, Lockout
from jeto_identity.throttle import services as throttle
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db
LIMIT = 3


@pytest.fixture(autouse=True)
def small_limit(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT


def _client(ip="10.0.0.1", **headers) -> Client:
    return Client(REMOTE_ADDR=ip, **headers)


def _fail(client, email, times):
    for _ in range(times):
        response = sign_in(client, email, "definitely-not-the-password")
    return response


def _visible_text(response) -> str:
    html = response.content.decode()
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    return re.sub(r"\s+", " ", html)


def test_failures_lock_the_account_and_even_the_right_password_is_refused(acme_member, password):
    attacker = _client()
    assert _fail(attacker, acme_member.email, LIMIT - 1).status_code == 400
    locked = _fail(attacker, acme_member.email, 1)
    assert locked.status_code == 429 and "Too many attempts" in locked.content.decode()
    assert int(locked["Retry-After"]) > 0
    # The owner, from another address, with the right password: still locked (per-account counter).
    response = sign_in(_client("10.0.0.2"), acme_member.email, password)
    assert response.status_code == 429
    assert "_auth_user_id" not in _client("10.0.0.2").session


def test_unknown_and_known_accounts_lock_out_identically(acme_member):
    def attempts(ip, email):
        return [sign_in(_client(ip), email, "wrong-wrong-wrong").status_code for _ in range(LIMIT + 1)]

    known, unknown = attempts("10.0.1.1", acme_member.email), attempts("10.0.1.2", "nobody@acme.test")
    assert known == unknown == [400] * (LIMIT - 1) + [429, 429]
    a = _visible_text(sign_in(_client("10.0.1.3"), acme_member.email, "x" * 12))
    b = _visible_text(sign_in(_client("10.0.1.4"), "nobody@acme.test", "x" * 12))
    assert a == b


def test_one_address_guessing_many_accounts_is_locked(acme_member, globex_member, password):
    stuffer = _client("10.0.2.1")
    for i in range(LIMIT):
        sign_in(stuffer, f"victim{i}@acme.test", "password-from-a-breach")
    # The address is now locked, even for a real account with its right password.
    assert sign_in(stuffer, globex_member.email, password).status_code == 429
    # The same account from elsewhere is fine: the account itself was never attacked.
    assert sign_in(_client("10.0.2.2"), globex_member.email, password).status_code == 302


def test_email_case_and_spaces_do_not_give_fresh_counters(acme_member):
    client = _client()
    for variant in ["MAX@acme.test", " max@ACME.test", "Max@Acme.Test"][:LIMIT]:
        sign_in(client, variant, "wrong-wrong-wrong")
    assert sign_in(_client("10.0.3.9"), acme_member.email, "wrong").status_code == 429


# -- proxies ----------------------------------------------------------------------------------------------


def _request(remote, xff=None):
    meta = {"REMOTE_ADDR": remote}
    if xff is not None:
        meta["HTTP_X_FORWARDED_FOR"] = xff
    return RequestFactory().get("/", **meta)


def test_forwarded_for_is_ignored_without_trusted_proxies(settings):
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "TRUSTED_PROXIES": []}
    assert client_ip(_request("203.0.113.9", "1.2.3.4")) == "203.0.113.9"


def test_forwarded_for_is_used_only_from_a_trusted_proxy(settings):
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "TRUSTED_PROXIES": ["10.9.0.0/16", "::1"]}
    assert client_ip(_request("10.9.0.5", "198.51.100.7")) == "198.51.100.7"
    # Spoofed left-hand entries are the client's own words: the proxy-appended right-most one counts.
    assert client_ip(_request("10.9.0.5", "1.1.1.1, 2.2.2.2, 198.51.100.7")) == "198.51.100.7"
    assert client_ip(_request("10.9.0.5", "198.51.100.7, 10.9.0.4")) == "198.51.100.7"  # two proxy hops
    assert client_ip(_request("203.0.113.9", "198.51.100.7")) == "203.0.113.9"  # not from our proxy
    assert client_ip(_request("10.9.0.5", "not-an-ip")) == "10.9.0.5"
    assert client_ip(_request("::1", "[2001:db8::1]:443")) == "2001:db8::1"


def test_rotating_forwarded_for_does_not_reset_the_limit(settings, acme_member):
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "TRUSTED_PROXIES": []}
    for i in range(LIMIT):
        sign_in(_client("10.0.4.1", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}"), f"v{i}@x.test", "wrong-wrong-wrong")
    fresh_header = _client("10.0.4.1", HTTP_X_FORWARDED_FOR="192.0.2.200")
    assert sign_in(fresh_header, "other@x.test", "wrong-wrong-wrong").status_code == 429


def test_behind_a_trusted_proxy_clients_are_counted_separately(settings, acme_member, password):
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "TRUSTED_PROXIES": ["10.0.5.1"]}
    for i in range(LIMIT):
        sign_in(_client("10.0.5.1", HTTP_X_FORWARDED_FOR="198.51.100.1"), f"v{i}@x.test", "wrong-wrong-wrong")
    other_client = _client("10.0.5.1", HTTP_X_FORWARDED_FOR="198.51.100.2")
    assert sign_in(other_client, acme_member.email, password).status_code == 302
    spoofing = _client("10.0.5.1", HTTP_X_FORWARDED_FOR="9.9.9.9, 198.51.100.1")
    assert sign_in(spoofing, acme_member.email, password).status_code == 429


# -- audit and admin -----------------------------------------------------------------------------------------


def test_lockout_is_indexed_and_audited(acme_member, acme):
    _fail(_client("10.0.6.1"), acme_member.email, LIMIT)
    row = Lockout.objects.get(username=acme_member.email)
    assert row.user == acme_member and row.active and row.ip_address == "10.0.6.1"
    (event,) = AuditEvent.objects.filter(event=audit.SIGN_IN_LOCKED_OUT)
    assert event.organization_id == acme.pk and event.outcome == "denied"


def test_org_admin_sees_and_clears_their_members_lockout(acme_admin, acme_member, globex_member, password):
    _fail(_client("10.0.7.1"), acme_member.email, LIMIT)
    _fail(_client("10.0.7.2"), globex_member.email, LIMIT)
    admin_client = _client("10.0.7.9")
    sign_in(admin_client, acme_admin.email, password)
    page = admin_client.get("/admin/jeto_identity/lockout/")
    assert [r.username for r in page.context["cl"].queryset] == [acme_member.email]
    foreign = Lockout.objects.get(username=globex_member.email)
    own = Lockout.objects.get(username=acme_member.email)
    response = admin_client.post(
        "/admin/jeto_identity/lockout/",
        {"action": "clear_lockouts", "_selected_action": [str(own.pk), str(foreign.pk)]},
    )
    assert response.status_code == 302
    assert Lockout.objects.filter(pk=foreign.pk).exists() and not Lockout.objects.filter(pk=own.pk).exists()
    assert sign_in(_client("10.0.7.3"), acme_member.email, password).status_code == 302
    assert sign_in(_client("10.0.7.4"), globex_member.email, password).status_code == 429
    assert AuditEvent.objects.filter(event=audit.LOCKOUT_CLEARED, subject_id=acme_member.pk).exists()


def test_superuser_clears_an_address_lockout(superuser, acme_member, password):
    for i in range(LIMIT):
        sign_in(_client("10.0.8.1"), f"v{i}@nowhere.test", "wrong-wrong-wrong")
    admin_client = _client("10.0.8.9")
    sign_in(admin_client, superuser.email, password)
    rows = Lockout.objects.filter(ip_address="10.0.8.1")
    admin_client.post(
        "/admin/jeto_identity/lockout/",
        {"action": "clear_lockouts", "_selected_action": [str(r.pk) for r in rows]},
    )
    assert sign_in(_client("10.0.8.1"), acme_member.email, password).status_code == 302


def test_member_cannot_open_the_lockout_admin(acme_member, password):
    client = _client()
    sign_in(client, acme_member.email, password)
    assert client.get("/admin/jeto_identity/lockout/").status_code == 302


# -- the reusable limiter (OTP codes, recovery codes, client secrets) -------------------------------------


def _api_request(ip="10.0.9.1"):
    request = RequestFactory().post("/o/token/", REMOTE_ADDR=ip)
    return request


def test_otp_limiter_locks_the_key_not_the_password(acme_member, password):
    key = str(acme_member.pk)
    for _ in range(LIMIT - 1):
        request = _api_request()
        throttle.check(request, throttle.OTP, key)
        assert throttle.failed(request, throttle.OTP, key) is False
    assert throttle.failed(_api_request(), throttle.OTP, key) is True
    with pytest.raises(throttle.Throttled):
        throttle.check(_api_request("10.0.9.2"), throttle.OTP, key)
    # The password is a different key; from a clean address it still works.
    assert sign_in(_client("10.0.9.3"), acme_member.email, password).status_code == 302
    assert AuditEvent.objects.filter(event=audit.THROTTLED).exists()


def test_success_resets_only_the_key(acme_member):
    key = str(acme_member.pk)
    for _ in range(LIMIT - 1):
        throttle.failed(_api_request(), throttle.OTP, key)
    throttle.succeeded(_api_request(), throttle.OTP, key)
    throttle.failed(_api_request("10.0.9.5"), throttle.OTP, key)
    throttle.check(_api_request("10.0.9.6"), throttle.OTP, key)  # 1 failure since the success: allowed
    assert AxesProxyHandler.get_failures(_api_request(), {"email": "otp:" + key}) >= LIMIT - 1  # address kept


def test_client_secret_limiter_answers_json_429(client, settings):
    from jeto_identity.core.errors import locked_out

    request = _api_request()
    for _ in range(LIMIT):
        throttle.failed(request, throttle.CLIENT_SECRET, "client-abc")
    with pytest.raises(throttle.Throttled):
        throttle.check(_api_request("10.0.9.7"), throttle.CLIENT_SECRET, "client-abc")
    response = locked_out(_api_request())
    assert response.status_code == 429 and response["Content-Type"] == "application/json"


# -- the MFA challenge (wired into the sign-in page) ------------------------------------------------------------


def test_otp_guessing_at_the_challenge_is_throttled_across_sign_ins(acme_member, password, caplog):
    from tests.identity.mfa_support import code_for, enrol

    device, _ = enrol(acme_member)
    for i in range(LIMIT):
        client = _client(f"10.0.10.{i}")  # a fresh sign-in from a fresh address each time
        assert sign_in(client, acme_member.email, password).url == "/login/mfa/"
        device.refresh_from_db()
        device.throttle_reset()  # take django-otp's own per-device delay out of the picture
        wrong = f"{(int(code_for(device)) + 500_000) % 1_000_000:06d}"
        client.post("/login/mfa/", {"code": wrong})
    client = _client("10.0.10.99")
    assert sign_in(client, acme_member.email, password).url == "/login/mfa/"
    device.refresh_from_db()
    device.throttle_reset()
    with caplog.at_level(logging.INFO):
        response = client.post("/login/mfa/", {"code": code_for(device)})
    assert response.status_code == 429 and "Too many attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # An expected answer: one line of ours, no traceback from django.request.
    assert not [r for r in caplog.records if r.exc_info]
    ours = [r.getMessage() for r in caplog.records if r.name == "jeto_identity.throttle"]
    assert len(ours) == 1 and ours[0].startswith("throttle.refused scope=otp ") and "ip=10.0.10.99" in ours[0]


def test_success_resets_a_mixed_case_key():
    for _ in range(LIMIT - 1):
        throttle.failed(_api_request("10.0.11.1"), throttle.CLIENT_SECRET, "Client-ABC")
    throttle.succeeded(_api_request("10.0.11.2"), throttle.CLIENT_SECRET, "Client-ABC")
    throttle.failed(_api_request("10.0.11.3"), throttle.CLIENT_SECRET, "Client-ABC")
    throttle.check(_api_request("10.0.11.4"), throttle.CLIENT_SECRET, "Client-ABC")  # 1 since the reset
