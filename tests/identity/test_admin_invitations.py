"""An org admin never takes an existing account without its holder's consent, driven through the real admin forms.

*Users → Add* with an address that already has an account creates no membership: it e-mails that address a
signed, expiring invitation, and only the invited account, signed in, joins by accepting it. Platform staff in no
organisation can therefore not be pulled into an organisation and then deactivated or have its MFA reset; and an
org admin never manages a staff account unless they own every organisation it belongs to.
"""

from __future__ import annotations

import re
import time

import pytest
from django.core import mail, signing

from jeto_identity.core import access
from jeto_identity.core.mail import wait_for_pending
from jeto_identity.models import Membership, Organization, Role, User
from jeto_identity.orgadmin import invitations
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

USER_ADD = "/admin/jeto_identity/user/add/"
LINK = re.compile(r"http://testserver(/invitations/[^/\s]+/)")
ANSWER = (
    "If {email} had no account, one was created and added to Acme; if it had one, they were e-mailed an "
    "invitation to join."
)


def user_url(user: User) -> str:
    return f"/admin/jeto_identity/user/{user.pk}/change/"


def add_person(client, email: str, org: Organization, role: str = Role.MEMBER):
    response = client.post(USER_ADD, {"email": email, "first_name": "New", "organization": str(org.pk), "role": role})
    wait_for_pending()  # the invitation is sent from a background thread, like the password-reset mail
    return response


def shown(client, response) -> list[str]:
    return [str(m) for m in client.get(response["Location"]).context["messages"]]


def invitation_link(to: str) -> str:
    sent = [m for m in mail.outbox if m.to == [to]]
    assert len(sent) == 1, [m.to for m in mail.outbox]
    return LINK.search(sent[0].body).group(1)


@pytest.fixture
def staff(make_user) -> User:
    """Platform staff in no organisation."""
    return make_user("support@jeto-staff.test", is_staff=True, first_name="Sup")


@pytest.fixture
def as_acme_admin(client, acme_admin, password):
    sign_in(client, acme_admin.email, password)
    return client


# --- the takeover that was possible ------------------------------------------------------------------------


def test_adding_platform_staff_does_not_let_an_admin_deactivate_it(as_acme_admin, acme, acme_admin, staff):
    response = add_person(as_acme_admin, staff.email, acme)
    assert response.status_code == 302
    assert shown(as_acme_admin, response) == [ANSWER.format(email=staff.email)]
    assert not Membership.objects.filter(user=staff).exists()

    # The change form of the account is out of reach (not in the admin's organisation: 404), so posting it
    # without is_active deactivates nothing, and it reveals none of the account's details.
    page = as_acme_admin.get(user_url(staff))
    assert page.status_code == 404
    assert as_acme_admin.post(user_url(staff), {"first_name": "Sup"}).status_code == 404
    staff.refresh_from_db()
    assert staff.is_active and staff.first_name == "Sup"
    assert not access.can_manage_user(User.objects.get(pk=acme_admin.pk), staff)


def test_adding_platform_staff_does_not_let_an_admin_reset_its_mfa(as_acme_admin, acme, staff):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    add_person(as_acme_admin, staff.email, acme)
    response = as_acme_admin.post(
        "/admin/jeto_identity/user/", {"action": "reset_mfa", "_selected_action": [str(staff.pk)]}
    )
    assert response.status_code in (200, 302)
    assert TOTPDevice.objects.filter(user=staff).exists()


def test_the_users_list_does_not_show_an_invited_account(as_acme_admin, acme, staff):
    add_person(as_acme_admin, staff.email, acme)
    listed = as_acme_admin.get("/admin/jeto_identity/user/")
    assert staff not in listed.context["cl"].result_list


# --- one answer; an existing account gets an e-mail, a new one is created -----------------------------------


def test_an_existing_account_is_e_mailed_an_invitation_and_nothing_else_happens(as_acme_admin, acme, make_user):
    known = make_user("pat@partner.test", first_name="Pat")
    before = User.objects.values().get(pk=known.pk)
    new = add_person(as_acme_admin, "sam@partner.test", acme)
    assert shown(as_acme_admin, new) == [ANSWER.format(email="sam@partner.test")]
    existing = add_person(as_acme_admin, "PAT@partner.test", acme, role=Role.ADMIN)
    assert shown(as_acme_admin, existing) == [ANSWER.format(email="pat@partner.test")]
    assert (new.status_code, new["Location"]) == (existing.status_code, existing["Location"])
    assert User.objects.values().get(pk=known.pk) == before
    assert not Membership.objects.filter(user=known).exists()
    assert Membership.objects.get(user__email="sam@partner.test").role == Role.MEMBER  # new: as before
    message = next(m for m in mail.outbox if m.to == ["pat@partner.test"])
    assert "Acme" in message.subject and "as Admin" in message.body
    assert [m.to for m in mail.outbox] == [["pat@partner.test"]]  # the new account gets no invitation


def test_a_superuser_gets_the_same_answer_no_mail_and_nothing(as_acme_admin, acme, superuser):
    response = add_person(as_acme_admin, superuser.email, acme)
    assert shown(as_acme_admin, response) == [ANSWER.format(email=superuser.email)]
    assert mail.outbox == []
    assert not Membership.objects.filter(user=superuser).exists()


def test_an_existing_member_is_not_invited_again(as_acme_admin, acme, acme_member):
    response = add_person(as_acme_admin, acme_member.email, acme, role=Role.ADMIN)
    assert shown(as_acme_admin, response) == [ANSWER.format(email=acme_member.email)]
    assert mail.outbox == []
    assert Membership.objects.get(user=acme_member).role == Role.MEMBER


# --- accepting -----------------------------------------------------------------------------------------------


@pytest.fixture
def invited(as_acme_admin, acme, make_user):
    """pat@partner.test, invited to Acme as admin; returns (account, link)."""
    known = make_user("pat@partner.test")
    add_person(as_acme_admin, known.email, acme, role=Role.ADMIN)
    as_acme_admin.logout()
    return known, invitation_link(known.email)


def test_the_invited_account_joins_only_by_accepting(client, invited, acme, password):
    known, link = invited
    sign_in(client, known.email, password)
    page = client.get(link)
    assert page.status_code == 200
    assert "Join Acme as Admin?" in page.content.decode()
    assert not Membership.objects.filter(user=known).exists()  # looking changes nothing

    done = client.post(link)
    assert done.status_code == 200
    assert "You joined Acme" in done.content.decode()
    assert Membership.objects.get(user=known, organization=acme).role == Role.ADMIN


def test_signed_out_the_link_leads_through_sign_in_and_back(client, invited, password):
    known, link = invited
    response = client.get(link)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=") and "invitations" in response["Location"]
    assert client.post(link).status_code == 302
    assert not Membership.objects.filter(user=known).exists()
    landed = sign_in(client, known.email, password, next_url=link)
    assert landed["Location"] == link


def test_another_signed_in_account_cannot_use_the_link(client, invited, acme_member, password):
    known, link = invited
    sign_in(client, acme_member.email, password)
    assert client.get(link).status_code == 403
    assert client.post(link).status_code == 403
    assert not Membership.objects.filter(user=known).exists()
    assert Membership.objects.get(user=acme_member).role == Role.MEMBER


def test_accepting_twice_or_as_an_existing_member_changes_nothing(client, invited, acme, password):
    known, link = invited
    Membership.objects.create(user=known, organization=acme, role=Role.MEMBER)  # added meanwhile, as a member
    sign_in(client, known.email, password)
    response = client.post(link)
    assert response.status_code == 200 and "already" in response.content.decode()
    assert Membership.objects.get(user=known, organization=acme).role == Role.MEMBER  # not promoted
    assert client.post(link).status_code == 200
    assert Membership.objects.filter(user=known).count() == 1


def test_a_forged_or_tampered_link_is_a_clear_400(client, invited, globex, password):
    known, link = invited
    sign_in(client, known.email, password)
    token = link.split("/")[2]
    forged = signing.dumps({"u": str(known.pk), "o": globex.pk, "r": "owner", "by": str(known.pk)}, salt="other")
    for bad in (token[:-2] + "xx", "nonsense", forged):
        response = client.post(f"/invitations/{bad}/")
        assert response.status_code == 400, bad
        assert "invalid, has expired" in response.content.decode()
    assert not Membership.objects.filter(user=known).exists()


def test_an_expired_link_is_a_400(client, acme, acme_admin, make_user, password, monkeypatch):
    known = make_user("pat@partner.test")
    now = time.time()
    monkeypatch.setattr(signing.time, "time", lambda: now - invitations.MAX_AGE_SECONDS - 60)
    token = invitations.make_token(known, acme, Role.MEMBER, acme_admin)
    monkeypatch.undo()
    sign_in(client, known.email, password)
    assert client.get(f"/invitations/{token}/").status_code == 400
    assert client.post(f"/invitations/{token}/").status_code == 400
    assert not Membership.objects.filter(user=known).exists()


def test_the_link_stops_working_when_its_inviter_no_longer_runs_the_organisation(
    client, invited, acme, acme_admin, password
):
    known, link = invited
    Membership.objects.filter(user=acme_admin, organization=acme).update(role=Role.MEMBER)
    sign_in(client, known.email, password)
    assert client.post(link).status_code == 400
    assert not Membership.objects.filter(user=known).exists()


def test_an_owner_invites_an_existing_account_as_owner(client, acme_owner, acme, make_user, password):
    known = make_user("pat@partner.test")
    sign_in(client, acme_owner.email, password)
    assert add_person(client, known.email, acme, role=Role.OWNER).status_code == 302
    assert not Membership.objects.filter(user=known).exists()
    link = invitation_link(known.email)
    client.logout()
    sign_in(client, known.email, password)
    assert "Join Acme as Owner?" in client.get(link).content.decode()
    client.post(link)
    assert Membership.objects.get(user=known, organization=acme).role == Role.OWNER


# --- defence in depth: staff accounts ------------------------------------------------------------------------


def test_an_admin_never_manages_a_staff_account_even_a_plain_member(
    client, acme, acme_admin, acme_owner, staff, password
):
    Membership.objects.create(user=staff, organization=acme, role=Role.MEMBER)
    sign_in(client, acme_admin.email, password)
    assert client.post(user_url(staff), {"first_name": "Sup"}).status_code == 403  # is_active left off
    staff.refresh_from_db()
    assert staff.is_active
    # The owner of every organisation it belongs to still manages it (owners manage their admins).
    assert access.can_manage_user(User.objects.get(pk=acme_owner.pk), staff)


def test_an_owner_does_not_manage_staff_who_is_also_in_an_organisation_they_do_not_own(acme, globex, acme_owner, staff):
    Membership.objects.create(user=staff, organization=acme, role=Role.MEMBER)
    Membership.objects.create(user=staff, organization=globex, role=Role.MEMBER)
    assert not access.can_manage_user(acme_owner, staff)
