"""Resetting a member's MFA from Django admin: org admins for their own members only, superusers for anyone."""

from __future__ import annotations

from django.contrib.admin.models import LogEntry

from jeto_identity.mfa import services as mfa

from ..conftest import sign_in
from .mfa_support import enrol, force_verified_login

CHANGELIST = "/admin/jeto_identity/user/"


def _reset(client, *users):
    return client.post(
        CHANGELIST, {"action": "reset_mfa", "_selected_action": [str(u.pk) for u in users], "index": "0"}, follow=True
    )


def test_org_admin_resets_a_member_who_then_signs_in_with_password_and_reenrols(
    client, acme, acme_admin, acme_member, password
):
    enrol(acme_member)
    sign_in(client, acme_admin.email, password)
    page = client.get(CHANGELIST)
    assert b"Reset two-step verification" in page.content
    reply = _reset(client, acme_member)
    assert reply.status_code == 200 and b"Two-step verification reset for: max@acme.test" in reply.content
    assert not mfa.has_mfa(acme_member) and mfa.recovery_codes_left(acme_member) == 0
    assert LogEntry.objects.filter(object_id=str(acme_member.pk), change_message__contains="two-step").exists()

    client.post("/logout/")
    assert sign_in(client, acme_member.email, password).url == "/account/"
    acme.mfa_required = True
    acme.save()
    client.post("/logout/")
    assert sign_in(client, acme_member.email, password).url == "/login/mfa/setup/"


def test_foreign_org_admin_cannot_reset(client, globex_admin, acme_member, password):
    enrol(acme_member)
    sign_in(client, globex_admin.email, password)
    _reset(client, acme_member)
    assert mfa.has_mfa(acme_member)  # out of scope: not even in the changelist queryset


def test_org_admin_cannot_reset_someone_who_is_also_in_another_org(
    client, acme, globex, acme_admin, acme_member, password
):
    from jeto_identity.models import Membership, Role

    Membership.objects.create(user=acme_member, organization=globex, role=Role.MEMBER)
    enrol(acme_member)
    sign_in(client, acme_admin.email, password)
    reply = _reset(client, acme_member)
    assert b"Not reset" in reply.content and mfa.has_mfa(acme_member)


def test_org_admin_cannot_reset_their_own_mfa_from_admin(client, acme_admin, password):
    device, _ = enrol(acme_admin)
    force_verified_login(client, acme_admin, device)
    reply = _reset(client, acme_admin)
    assert b"Not reset" in reply.content and mfa.has_mfa(acme_admin)


def test_superuser_resets_anyone(client, superuser, acme_member, globex_member):
    device, _ = enrol(superuser)
    enrol(acme_member)
    enrol(globex_member)
    force_verified_login(client, superuser, device)
    _reset(client, acme_member, globex_member)
    assert not mfa.has_mfa(acme_member) and not mfa.has_mfa(globex_member)


def test_reset_makes_a_session_verified_with_the_old_device_enrol_again(client, acme, acme_member, superuser):
    device, _ = enrol(acme_member)
    acme.mfa_required = True
    acme.save()
    force_verified_login(client, acme_member, device)
    assert client.get("/account/").status_code == 200
    mfa.reset_mfa(superuser, acme_member)
    # The old device is gone: this session is no longer verified and must enrol again before anything else.
    assert client.get("/account/").url.startswith("/account/mfa/setup/")


def test_member_admin_list_does_not_show_totp_secrets(client, superuser):
    device, _ = enrol(superuser)
    force_verified_login(client, superuser, device)
    page = client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/")
    assert page.status_code == 200 and device.key.encode() not in page.content
