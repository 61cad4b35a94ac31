"""Organisation policy: members of an org that requires MFA enrol before anything else, and can't skip it."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import override_settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from jeto_identity.login import services as login_service
from jeto_identity.mfa import services as mfa
from jeto_identity.mfa import stage as mfa_login
from jeto_identity.models import Membership, Role

from ..conftest import sign_in
from .mfa_support import code_for, code_for_key, enrol, force_verified_login, secret_from_page

SKIP_ATTEMPTS = ["/account/", "/admin/", "/account/password/", "/", "/account/mfa/setup/"]


@pytest.fixture
def mfa_org(acme):
    acme.mfa_required = True
    acme.save()
    return acme


def test_member_without_device_enrols_during_sign_in_before_anything_else(client, mfa_org, acme_member, password):
    reply = sign_in(client, acme_member.email, password, next_url="/account/password/")
    assert reply.status_code == 302 and reply.url == "/login/mfa/setup/"
    assert SESSION_KEY not in client.session  # still anonymous while enrolling
    for url in SKIP_ATTEMPTS:
        skip = client.get(url)
        assert skip.status_code == 302 and not skip.url.startswith("/account"), (url, skip.url)
    assert SESSION_KEY not in client.session

    page = client.get("/login/mfa/setup/")
    html = page.content.decode()
    assert page.status_code == 200 and "<svg" in html and "requires a second step" in html
    key = secret_from_page(html)
    assert client.post("/login/mfa/setup/", {"code": "000000"}).status_code == 400
    assert SESSION_KEY not in client.session
    assert client.post("/login/mfa/setup/", {"code": code_for_key(key)}).status_code == 429  # throttled: wait
    TOTPDevice.objects.filter(user=acme_member).update(throttling_failure_timestamp=None)  # ...the delay passed
    before = client.session.session_key
    done = client.post("/login/mfa/setup/", {"code": code_for_key(key, offset_steps=1)})
    assert done.status_code == 302 and done.url.startswith("/account/mfa/recovery-codes/?next=")
    session = client.session
    assert session[SESSION_KEY] == str(acme_member.pk) and session.session_key != before
    assert session[login_service.AMR_SESSION_KEY] == ["pwd", "otp", "mfa"]
    assert mfa.has_mfa(acme_member) and mfa.recovery_codes_left(acme_member) == 10
    codes = client.get(done.url)
    assert codes.status_code == 200 and b"recovery-codes" in codes.content
    assert client.post("/account/mfa/recovery-codes/", {"next": "/account/password/"}).url == "/account/password/"

    # Every later sign-in asks for a code.
    client.post("/logout/")
    assert sign_in(client, acme_member.email, password).url == "/login/mfa/"


def test_enrolment_at_sign_in_needs_a_pending_password(client, mfa_org, acme_member):
    assert client.get("/login/mfa/setup/").url == "/login/"
    client.post("/login/", {"email": acme_member.email})
    assert client.get("/login/mfa/setup/").url == "/login/"


def test_password_alone_cannot_add_a_device_where_none_is_required(client, acme_member, password):
    """An attacker with only the password must not plant their own authenticator on the account."""
    sign_in(client, acme_member.email, password)  # signed in: no MFA needed
    client.post("/logout/")
    client.post("/login/", {"email": acme_member.email})
    # Pretend the stage sent us to setup: the view itself refuses (pipeline decides; no device created).
    session = client.session
    session[login_service.PENDING_KEY] = {"email": acme_member.email, "user_id": str(acme_member.pk), "amr": ["pwd"]}
    session[mfa_login.STAGE_STARTED_KEY] = {"user_id": str(acme_member.pk), "at": int(time.time())}
    session.save()
    reply = client.get("/login/mfa/setup/")
    assert reply.status_code == 302 and not mfa.has_mfa(acme_member)
    assert not acme_member.totpdevice_set.exists()


def test_password_alone_cannot_replace_an_existing_device(client, mfa_org, acme_member, password):
    device, _ = enrol(acme_member)
    sign_in(client, acme_member.email, password)
    reply = client.get("/login/mfa/setup/")
    assert reply.url == "/login/mfa/"
    assert list(acme_member.totpdevice_set.values_list("pk", flat=True)) == [device.pk]
    assert SESSION_KEY not in client.session


def test_member_signed_in_before_policy_is_sent_to_enrolment_on_every_url(client, acme, acme_member, password):
    sign_in(client, acme_member.email, password)
    assert client.get("/account/").status_code == 200
    acme.mfa_required = True
    acme.save()
    for url in ["/account/", "/account/password/", "/", "/admin/", "/account/mfa/remove/"]:
        reply = client.get(url)
        assert reply.status_code == 302 and reply.url.startswith("/account/mfa/setup/"), (url, reply.url)
    assert client.post("/account/password/", {}).url == "/account/mfa/setup/"  # POSTs too (no next)
    setup = client.get("/account/mfa/setup/?next=/account/password/")
    assert setup.status_code == 200
    key = secret_from_page(setup.content.decode())
    done = client.post("/account/mfa/setup/?next=/account/password/", {"code": code_for_key(key)})
    assert done.url == "/account/mfa/recovery-codes/?next=%2Faccount%2Fpassword%2F"
    assert client.get("/account/").status_code == 200  # verified in this session now
    assert client.post("/logout/").status_code == 302


def test_member_of_any_requiring_org_must_enrol(client, acme, globex, acme_member, password):
    globex.mfa_required = True
    globex.save()
    Membership.objects.create(user=acme_member, organization=globex, role=Role.MEMBER)
    assert sign_in(client, acme_member.email, password).url == "/login/mfa/setup/"


def test_members_of_other_orgs_are_not_affected(client, mfa_org, globex_member, password):
    assert sign_in(client, globex_member.email, password).url == "/account/"
    assert client.get("/account/").status_code == 200


def test_org_admin_switches_require_mfa_in_admin(client, acme, acme_admin, globex):
    device, _ = enrol(acme_admin)
    force_verified_login(client, acme_admin, device)
    reply = client.post(
        f"/admin/jeto_identity/organization/{acme.pk}/change/",
        {
            "name": "Acme",
            "mfa_required": "on",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
            "domains-TOTAL_FORMS": "0",
            "domains-INITIAL_FORMS": "0",
        },
    )
    assert reply.status_code == 302, reply.content[:2000]
    acme.refresh_from_db()
    assert acme.mfa_required
    assert client.get(f"/admin/jeto_identity/organization/{globex.pk}/change/").status_code == 404


def test_removing_the_app_under_policy_sends_straight_back_to_enrolment(client, mfa_org, acme_member, password):
    device, _ = enrol(acme_member)
    sign_in(client, acme_member.email, password)
    client.post("/login/mfa/", {"code": code_for(device)})
    assert b"Your organisation requires two-step verification" in client.get("/account/mfa/remove/").content
    client.post("/account/mfa/remove/")
    assert client.get("/account/").url.startswith("/account/mfa/setup/")


@override_settings(JETO_IDENTITY={"ADMIN_REQUIRES_MFA": True})
def test_admin_requires_a_second_factor_when_the_setting_is_on(client, acme_admin, password):
    sign_in(client, acme_admin.email, password)  # no device: password-only session
    reply = client.get("/admin/")
    assert reply.status_code == 302 and reply.url.startswith("/account/mfa/setup/?next=%2Fadmin%2F")
    assert client.get("/admin/jeto_identity/user/").url.startswith("/account/mfa/setup/")
    assert client.get("/account/").status_code == 200  # the rest of the site is fine without MFA
    key = secret_from_page(client.get("/account/mfa/setup/").content.decode())
    client.post("/account/mfa/setup/", {"code": code_for_key(key)})
    assert client.get("/admin/").status_code == 200


@override_settings(JETO_IDENTITY={"ADMIN_REQUIRES_MFA": True})
def test_admin_gate_for_superuser_with_device_needs_verified_session(client, superuser, password):
    device, _ = enrol(superuser)
    client.force_login(superuser)  # authenticated without the second factor
    assert client.get("/admin/").url.startswith("/login/")
    force_verified_login(client, superuser, device)
    assert client.get("/admin/").status_code == 200


def test_admin_gate_off_lets_staff_without_mfa_in(client, acme_admin, password):
    sign_in(client, acme_admin.email, password)
    assert client.get("/admin/").status_code == 200
