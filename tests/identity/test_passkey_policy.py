"""The "phishing-resistant only" MFA level, its grace period, and org admins' view and reset of members' factors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from jeto_identity.mfa import services as mfa
from jeto_identity.models import AuditEvent, Organization, WebAuthnDevice
from tests.conftest import sign_in
from tests.identity.mfa_support import code_for, enrol, sign_in_fully
from tests.identity.test_passkeys import MFA_FINISH, MFA_OPTIONS, register_passkey, user_with_passkey
from tests.identity.webauthn_support import SoftAuthenticator, post_json

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/jeto_identity/user/"


def require_phishing_resistant(org: Organization, *, days_ago: int = 0, grace_days: int = 14) -> None:
    org.phishing_resistant_only = True
    org.phishing_resistant_grace_days = grace_days
    org.save()
    Organization.objects.filter(pk=org.pk).update(phishing_resistant_since=timezone.now() - timedelta(days=days_ago))


def test_switching_the_level_on_stamps_it_and_is_audited(acme):
    acme.phishing_resistant_only = True
    acme.save()
    acme.refresh_from_db()
    assert acme.phishing_resistant_since is not None and acme.mfa_level == "phishing_resistant"
    assert acme.phishing_resistant_deadline == acme.phishing_resistant_since + timedelta(days=14)
    event = AuditEvent.objects.filter(event="organization.policy_changed", organization_id=acme.pk).latest("id")
    assert event.details["changes"]["phishing_resistant_only"] == [False, True]
    acme.phishing_resistant_only = False
    acme.save(update_fields=["phishing_resistant_only"])
    acme.refresh_from_db()
    assert acme.phishing_resistant_since is None and acme.mfa_level == "none"


def test_in_the_grace_period_an_app_code_still_works_and_the_member_is_told(client, acme, acme_member, password):
    device, _ = enrol(acme_member)
    require_phishing_resistant(acme, days_ago=1)
    done = sign_in_fully(client, acme_member, device, password)
    assert done.status_code == 302
    account = client.get("/account/")
    assert account.status_code == 200 and b'data-testid="account-policy-notice"' in account.content
    assert any("accepts only passkeys" in str(m) for m in account.context["messages"])
    page = client.get("/account/security/")
    assert page.context["policy"].in_grace and b'data-testid="policy-notice"' in page.content


def test_after_the_grace_period_an_app_code_only_leads_to_adding_a_passkey(client, acme, acme_member, password):
    device, _ = enrol(acme_member)
    require_phishing_resistant(acme, days_ago=30)
    sign_in_fully(client, acme_member, device, password)
    held = client.get("/account/")
    assert held.status_code == 302 and held.url.startswith("/account/passkeys/add/")
    assert client.get("/o/authorize/?client_id=x").url.startswith("/account/passkeys/add/")  # no relying party either
    page = client.get("/account/passkeys/add/")
    assert page.status_code == 200 and b'data-testid="passkey-policy"' in page.content
    assert register_passkey(client, SoftAuthenticator()).status_code == 200
    assert client.get("/account/").status_code == 200  # the session is now verified by the passkey


def test_after_the_grace_period_codes_are_refused_when_a_passkey_exists(client, acme, acme_member, password):
    device, codes = enrol(acme_member)
    sign_in_fully(client, acme_member, device, password)
    authenticator = SoftAuthenticator()
    register_passkey(client, authenticator)
    client.post("/logout/")
    require_phishing_resistant(acme, days_ago=30)
    sign_in(client, acme_member.email, password)
    page = client.get("/login/mfa/")
    assert b"Use a passkey" in page.content and b'name="code"' not in page.content
    for code in (code_for(device), codes[0]):
        refused = client.post("/login/mfa/", {"code": code})
        assert refused.status_code == 403
    assert client.get("/account/").status_code == 302
    options = post_json(client, MFA_OPTIONS).json()
    assert post_json(client, MFA_FINISH, {"credential": authenticator.get(options)}).status_code == 200
    assert client.get("/account/").status_code == 200


def test_a_session_verified_by_an_app_code_is_signed_out_once_the_grace_period_ends(acme, acme_member, password):
    device, _ = enrol(acme_member)
    browser = Client()
    sign_in_fully(browser, acme_member, device, password)
    register_passkey(browser, SoftAuthenticator())  # this session is now passkey-verified
    older = Client()
    sign_in_fully(older, acme_member, device, password)  # this one used the app
    require_phishing_resistant(acme, days_ago=30)
    assert browser.get("/account/").status_code == 200
    out = older.get("/account/")
    assert out.status_code == 302 and out.url.startswith("/login/")
    assert older.get("/account/").url.startswith("/login/")  # signed out, not just redirected


def test_a_member_without_any_factor_adds_a_passkey_during_sign_in(client, acme, acme_member, password):
    require_phishing_resistant(acme)
    assert sign_in(client, acme_member.email, password).url == "/login/mfa/passkey-setup/"
    assert client.get("/account/").status_code == 302  # still anonymous
    page = client.get("/login/mfa/passkey-setup/")
    assert page.status_code == 200 and b"data-passkey-register" in page.content
    options = post_json(client, "/login/mfa/passkey-setup/options/").json()
    done = post_json(client, "/login/mfa/passkey-setup/finish/", {"credential": SoftAuthenticator().create(options)})
    assert done.status_code == 200 and done.json()["redirect"].startswith("/account/mfa/recovery-codes/")
    assert client.get("/account/").status_code == 200
    assert client.session["jeto_amr"] == ["pwd", "hwk", "mfa"]


def test_passkey_setup_during_sign_in_needs_a_pending_sign_in(client, acme, acme_member, password):
    require_phishing_resistant(acme)
    assert client.get("/login/mfa/passkey-setup/").url == "/login/"
    assert post_json(client, "/login/mfa/passkey-setup/options/").status_code == 403
    # A member of an organisation without the level never gets there through a password alone.
    Organization.objects.filter(pk=acme.pk).update(phishing_resistant_only=False)
    sign_in(client, acme_member.email, password)
    assert client.get("/login/mfa/passkey-setup/").status_code == 302
    assert not WebAuthnDevice.objects.exists()


# --- org admins: which factors, and reset --------------------------------------------------------------------


def test_org_admin_sees_factors_and_resets_passkeys(client, acme_admin, acme_member, password):
    user_with_passkey(client, acme_member, password)
    sign_in(client, acme_admin.email, password)
    page = client.get(CHANGELIST)
    assert b"1 passkey, 10 recovery codes" in page.content
    assert WebAuthnDevice.objects.get().credential_id.encode() not in page.content  # counts, never key material
    reply = client.post(
        CHANGELIST,
        {"action": "reset_mfa", "_selected_action": [str(acme_member.pk)], "index": "0"},
        follow=True,
    )
    assert b"Two-step verification reset for: max@acme.test" in reply.content
    assert not WebAuthnDevice.objects.exists() and not mfa.has_mfa(acme_member)
    assert AuditEvent.objects.filter(event="mfa.reset", subject_id=acme_member.pk, details__device="webauthn").exists()


def test_foreign_org_admin_cannot_see_or_reset_a_members_passkeys(client, globex_admin, acme_member, password):
    user_with_passkey(client, acme_member, password)
    sign_in(client, globex_admin.email, password)
    assert b"max@acme.test" not in client.get(CHANGELIST).content
    client.post(CHANGELIST, {"action": "reset_mfa", "_selected_action": [str(acme_member.pk)], "index": "0"})
    assert WebAuthnDevice.objects.filter(user=acme_member).exists()


# --- what the policy middleware costs an ordinary request ------------------------------------------------------


def _policy_queries(user, device=None) -> int:
    from django.db import connection
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext
    from django.urls import resolve

    from jeto_identity.mfa.middleware import MFAPolicyMiddleware

    request = RequestFactory().get("/account/")
    request.COOKIES["sessionid"] = "x"
    request.session = {}
    request.resolver_match = resolve("/account/")
    user.otp_device = device
    user.is_verified = lambda: device is not None
    request.user = user
    with CaptureQueriesContext(connection) as queries:
        assert MFAPolicyMiddleware(lambda r: None).process_view(request, None, (), {}) is None
    return len(queries.captured_queries)


def test_policy_middleware_reads_once_for_a_member_without_mfa_and_never_after_a_passkey(acme_member, client):
    assert _policy_queries(acme_member) == 1  # has a factor? and the organisations' policy, in one query
    from jeto_identity.mfa.webauthn.models import WebAuthnDevice as Device

    passkey = Device.objects.create(user=acme_member, name="k", credential_id="abc", public_key=b"k", confirmed=True)
    assert _policy_queries(acme_member, passkey) == 0
