"""Invitations: every address is invited the same way, by a hashed, single-use, expiring, revocable link.

Nothing is created when an org admin invites, so neither the answer nor the member list tells whether the address
had an account; an existing account joins only by signing in with its own credentials; a new person sets a password
on the page (the link proves the address).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import timezone

from jeto_identity.audit import services as audit
from jeto_identity.core.mail import wait_for_pending
from jeto_identity.models import AuditEvent, Invitation, Membership, Role, User
from jeto_identity.orgadmin import invitations
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

USER_ADD = "/admin/jeto_identity/user/add/"
LINK = re.compile(r"http://testserver(/invitations/[^/\s]+/)")
NEW_PASSWORD = "a-brand-new-long-passphrase"


def invite(client, email: str, org, role: str = Role.MEMBER):
    response = client.post(USER_ADD, {"email": email, "first_name": "X", "organization": str(org.pk), "role": role})
    wait_for_pending()
    return response


def last_link(to: str) -> str:
    sent = [m for m in mail.outbox if m.to == [to]]
    assert sent, [m.to for m in mail.outbox]
    return LINK.search(sent[-1].body).group(1)


@pytest.fixture
def as_acme_admin(client, acme_admin, password):
    sign_in(client, acme_admin.email, password)
    return client


def test_nothing_is_created_and_the_stored_secret_is_hashed(as_acme_admin, acme, make_user):
    known = make_user("pat@partner.test")
    invite(as_acme_admin, "sam@partner.test", acme)
    invite(as_acme_admin, known.email, acme)
    assert not User.objects.filter(email="sam@partner.test").exists()
    assert not Membership.objects.filter(user=known).exists()
    listed = as_acme_admin.get("/admin/jeto_identity/user/").context["cl"].result_list
    assert known not in listed  # the member list can't tell invited-existing from invited-new
    row = Invitation.objects.get(email="sam@partner.test")
    secret = last_link("sam@partner.test")
    assert row.secret_hash not in secret and len(row.secret_hash) == 64
    assert [m.to for m in mail.outbox] == [["sam@partner.test"], ["pat@partner.test"]]  # both mailed alike
    assert AuditEvent.objects.filter(event=audit.INVITATION_SENT).count() == 2


def test_a_new_person_sets_a_password_joins_and_signs_in(client, as_acme_admin, acme, password):
    invite(as_acme_admin, "sam@partner.test", acme, Role.ADMIN)
    link = last_link("sam@partner.test")
    client.logout()
    page = client.get(link)
    assert page.status_code == 200 and 'data-testid="invitation-create"' in page.content.decode()
    weak = client.post(link, {"password": "short", "password2": "short"})
    assert weak.status_code == 400 and not User.objects.filter(email="sam@partner.test").exists()
    done = client.post(link, {"first_name": "Sam", "password": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302 and "/login/" in done["Location"]
    user = User.objects.get(email="sam@partner.test")
    assert user.email_verified and user.check_password(NEW_PASSWORD)
    assert Membership.objects.get(user=user, organization=acme).role == Role.ADMIN
    # Single use: the link is dead now, for anyone.
    assert client.get(link).status_code == 400
    sign_in(client, user.email, NEW_PASSWORD)
    assert client.get("/account/").status_code == 200


def test_an_existing_account_must_sign_in_and_nothing_else_changes(client, as_acme_admin, acme, make_user, password):
    known = make_user("pat@partner.test", first_name="Pat")
    before = known.password
    invite(as_acme_admin, known.email, acme)
    link = last_link(known.email)
    client.logout()
    page = client.get(link)
    assert 'data-testid="invitation-sign-in"' in page.content.decode()
    # No password can be set for an existing account through the link (no takeover).
    response = client.post(link, {"password": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302 and "/login/" in response["Location"]
    known.refresh_from_db()
    assert known.password == before and not Membership.objects.filter(user=known).exists()
    sign_in(client, known.email, password, next_url=link)
    assert client.post(link).status_code == 200
    assert Membership.objects.get(user=known, organization=acme).role == Role.MEMBER


def test_another_account_gets_a_403_and_cannot_accept(client, as_acme_admin, acme, acme_member, password):
    invite(as_acme_admin, "sam@partner.test", acme)
    link = last_link("sam@partner.test")
    client.logout()
    sign_in(client, acme_member.email, password)
    assert client.get(link).status_code == 403
    assert client.post(link).status_code == 403
    assert Invitation.objects.get(email="sam@partner.test").accepted_at is None


def test_revoked_resent_and_expired_links_stop_working(client, as_acme_admin, acme, acme_admin):
    invite(as_acme_admin, "sam@partner.test", acme)
    first = last_link("sam@partner.test")
    row = Invitation.objects.get(email="sam@partner.test")
    as_acme_admin.post(
        "/admin/jeto_identity/invitation/", {"action": "resend_selected", "_selected_action": [str(row.pk)]}
    )
    wait_for_pending()
    second = last_link("sam@partner.test")
    assert first != second
    client.logout()
    assert client.get(first).status_code == 400 and client.get(second).status_code == 200
    Invitation.objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(second).status_code == 400
    Invitation.objects.filter(pk=row.pk).update(expires_at=timezone.now() + timedelta(days=1))
    assert invitations.revoke(row, acme_admin)
    assert client.get(second).status_code == 400
    assert AuditEvent.objects.filter(event=audit.INVITATION_REVOKED).count() == 1


def test_a_tampered_or_forged_link_is_a_400(client, as_acme_admin, acme):
    invite(as_acme_admin, "sam@partner.test", acme)
    link = last_link("sam@partner.test")
    client.logout()
    assert client.get(link[:-3] + "xx/").status_code == 400
    row = Invitation.objects.get()
    forged = invitations.make_token(row, "guessed-secret")
    assert client.get(f"/invitations/{forged}/").status_code == 400


def test_a_superuser_cannot_join_by_invitation(client, as_acme_admin, acme, superuser, password):
    invite(as_acme_admin, superuser.email, acme)
    link = last_link(superuser.email)
    client.logout()
    sign_in(client, superuser.email, password, next_url=link)
    assert client.post(link).status_code == 403
    assert not Membership.objects.filter(user=superuser).exists()


def test_an_existing_member_keeps_their_role(client, as_acme_admin, acme, acme_member, password):
    invite(as_acme_admin, acme_member.email, acme, Role.ADMIN)
    link = last_link(acme_member.email)
    client.logout()
    sign_in(client, acme_member.email, password)
    assert 'data-testid="invitation-already-member"' in client.post(link).content.decode()
    assert Membership.objects.get(user=acme_member).role == Role.MEMBER


def test_an_admin_who_lost_the_organisation_invalidates_their_links(client, as_acme_admin, acme, acme_admin):
    invite(as_acme_admin, "sam@partner.test", acme)
    link = last_link("sam@partner.test")
    Membership.objects.filter(user=acme_admin).delete()
    client.logout()
    assert client.get(link).status_code == 400


def test_another_organisations_invitations_are_out_of_reach(client, acme, globex, globex_admin, as_acme_admin):
    invite(as_acme_admin, "sam@partner.test", acme)
    row = Invitation.objects.get()
    client.logout()
    sign_in(client, globex_admin.email)
    assert client.get(f"/admin/jeto_identity/invitation/{row.pk}/change/").status_code == 404
    client.post("/admin/jeto_identity/invitation/", {"action": "revoke_selected", "_selected_action": [str(row.pk)]})
    assert Invitation.objects.get().revoked_at is None


def test_bulk_csv_reports_per_row(as_acme_admin, acme, globex):
    csv_text = "email,role\nann@partner.test,admin\nnot-an-email,member\nceo@globex.test,member\nbob@partner.test,\n"
    csv_text += "eve@partner.test,owner\n"
    upload = SimpleUploadedFile("people.csv", csv_text.encode(), content_type="text/csv")
    response = as_acme_admin.post(
        "/admin/jeto_identity/invitation/upload/", {"organization": str(acme.pk), "file": upload}
    )
    wait_for_pending()
    rows = {r["email"]: (r["ok"], r["result"]) for r in response.context["results"]}
    assert rows["ann@partner.test"] == (True, "invited") and rows["bob@partner.test"] == (True, "invited")
    assert rows["not-an-email"][0] is False
    assert rows["ceo@globex.test"][0] is False and "another organisation" in rows["ceo@globex.test"][1]
    assert rows["eve@partner.test"][0] is False  # only an owner invites an owner
    assert set(Invitation.objects.values_list("email", flat=True)) == {"ann@partner.test", "bob@partner.test"}


def test_a_file_that_is_not_csv_is_a_clear_error(as_acme_admin, acme):
    upload = SimpleUploadedFile("x.csv", b"\xff\xfe\x00garbage", content_type="text/csv")
    response = as_acme_admin.post(
        "/admin/jeto_identity/invitation/upload/", {"organization": str(acme.pk), "file": upload}
    )
    assert response.status_code == 200 and "UTF-8" in str(response.context["form"].errors["file"])
    assert not Invitation.objects.exists()


@override_settings(JETO_IDENTITY={"INVITATIONS_PER_HOUR": 2})
def test_invitations_are_throttled_per_admin(as_acme_admin, acme, acme_admin):
    invitations.invite(None, acme, "a@partner.test", Role.MEMBER, acme_admin)
    invitations.invite(None, acme, "b@partner.test", Role.MEMBER, acme_admin)
    with pytest.raises(invitations.Throttled):
        invitations.invite(None, acme, "c@partner.test", Role.MEMBER, acme_admin)
    assert not Invitation.objects.filter(email="c@partner.test").exists()


def test_an_sso_domain_joins_through_the_idp_even_without_jit(acme, acme_admin, make_user):
    from jeto_identity.models import SSOConnection
    from jeto_identity.sso import services as sso

    connection = SSOConnection.objects.create(
        organization=acme,
        name="Okta",
        issuer="https://idp.example",
        client_id="x",
        enabled=True,
        jit_provisioning=False,
    )
    sent = invitations.invite(None, acme, "new@acme.test", Role.ADMIN, acme_admin)
    assert invitations.sso_required(sent.invitation)
    user = sso.resolve_user(connection, {"sub": "s-1", "email": "new@acme.test", "email_verified": True})
    assert Membership.objects.get(user=user, organization=acme).role == Role.ADMIN
    assert Invitation.objects.get().accepted_by == user
    # Without an invitation, JIT off still refuses.
    with pytest.raises(sso.SSOLoginRefused):
        sso.resolve_user(connection, {"sub": "s-2", "email": "other@acme.test", "email_verified": True})
