"""Each signal the app sends reaches a receiver exactly once per event, with its sender and kwargs; every receiver
the app connects names its sender."""

from __future__ import annotations

import weakref
from contextlib import contextmanager

import pytest
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from django.dispatch import Signal
from django.dispatch.dispatcher import _make_id

from jeto_identity.connections import services as clients
from jeto_identity.connections import signals as connection_signals
from jeto_identity.core import signals as core_signals
from jeto_identity.mfa import services as mfa
from jeto_identity.mfa import signals as mfa_signals
from jeto_identity.models import FederatedIdentity, Membership, OAuthClient, Organization, Role, User
from jeto_identity.sso import services as sso
from jeto_identity.sso import signals as sso_signals
from tests.sso_support import make_connection

from .mfa_support import enrol


@contextmanager
def caught(signal: Signal, sender: type):
    """The kwargs of every send of ``signal`` by ``sender`` inside the block."""
    calls: list[dict] = []

    def receiver(sender, signal, **kwargs):
        calls.append(kwargs)

    signal.connect(receiver, sender=sender, weak=False)
    try:
        yield calls
    finally:
        signal.disconnect(receiver, sender=sender)


# ---- MFA --------------------------------------------------------------------------------------------------------


def test_mfa_enabled_once_at_confirmation(acme_member):
    with caught(mfa_signals.mfa_enabled, User) as calls:
        mfa.start_enrolment(acme_member)
        assert calls == []
        device, _ = enrol(acme_member)
    assert len(calls) == 1
    assert calls[0]["user"].pk == acme_member.pk and calls[0]["device"].pk == device.pk


def test_mfa_removed_once_by_its_owner(acme_member):
    enrol(acme_member)
    with caught(mfa_signals.mfa_removed, User) as removed, caught(mfa_signals.mfa_reset, User) as reset:
        mfa.remove_mfa(acme_member)
        mfa.remove_mfa(acme_member)  # nothing left: no event
    assert reset == []
    assert len(removed) == 1 and removed[0]["user"] == acme_member and removed[0]["devices"] == 2


def test_mfa_reset_once_by_an_admin(acme_member, acme_admin):
    enrol(acme_member)
    with caught(mfa_signals.mfa_reset, User) as reset, caught(mfa_signals.mfa_removed, User) as removed:
        mfa.reset_mfa(acme_admin, acme_member)
    assert removed == []
    assert len(reset) == 1
    assert reset[0]["user"] == acme_member and reset[0]["actor"] == acme_admin and reset[0]["devices"] == 2


# ---- single sign-on ---------------------------------------------------------------------------------------------


def sso_claims(sub: str, email: str) -> dict:
    return {"sub": sub, "email": email, "email_verified": True}


def test_jit_sends_user_provisioned_and_account_linked_once(acme):
    connection = make_connection(acme, "https://idp.acme.test", jit_provisioning=True)
    with caught(sso_signals.user_provisioned, User) as provisioned, caught(sso_signals.account_linked, User) as linked:
        user = sso.resolve_user(connection, sso_claims("s-1", "new@acme.test"))
        sso.resolve_user(connection, sso_claims("s-1", "new@acme.test"))  # signing in again: no event
    assert len(provisioned) == 1 and len(linked) == 1
    assert provisioned[0]["user"] == user and provisioned[0]["connection"] == connection
    assert provisioned[0]["claims"]["sub"] == "s-1"
    assert linked[0]["identity"] == FederatedIdentity.objects.get(user=user)


def test_linking_an_existing_account_sends_account_linked_only(acme, acme_member):
    connection = make_connection(acme, "https://idp.acme.test")
    with caught(sso_signals.user_provisioned, User) as provisioned, caught(sso_signals.account_linked, User) as linked:
        sso.resolve_user(connection, sso_claims("s-max", "max@acme.test"))
    assert provisioned == []
    assert len(linked) == 1 and linked[0]["user"] == acme_member and linked[0]["connection"] == connection


def test_a_refused_sign_in_sends_nothing(acme, acme_admin):
    connection = make_connection(acme, "https://idp.acme.test")
    with caught(sso_signals.account_linked, User) as linked:
        with pytest.raises(sso.LinkConfirmationRequired):
            sso.resolve_user(connection, sso_claims("s-ada", "ada@acme.test"))
    assert linked == []


# ---- application connections ----------------------------------------------------------------------------------


def test_client_secret_rotated_once_without_the_secret(acme_conn):
    with caught(connection_signals.client_secret_rotated, OAuthClient) as calls:
        issued = clients.rotate_secret(acme_conn.client)
    assert len(calls) == 1
    assert calls[0]["client"].pk == acme_conn.client.pk
    assert calls[0]["previous_secret_expires_at"] == issued.client.previous_secret_expires_at is not None
    assert issued.client_secret not in repr(calls[0])


# ---- organisation membership (every path: ORM here, admin and services the same way) --------------------------


def test_member_added_and_removed_once(acme, make_user):
    user = make_user("new@acme.test")
    with (
        caught(core_signals.member_added, Membership) as added,
        caught(core_signals.member_removed, Membership) as gone,
    ):
        membership = Membership.objects.create(user=user, organization=acme, role=Role.ADMIN)
        membership.role = Role.MEMBER
        membership.save()  # a change is not an addition
        membership.delete()
    assert len(added) == 1 and len(gone) == 1
    assert added[0]["user"] == user and added[0]["organization"] == acme and added[0]["role"] == Role.ADMIN
    assert gone[0]["user"] == user and gone[0]["organization"] == acme and gone[0]["role"] == Role.MEMBER


def test_member_removed_when_the_organisation_is_deleted(acme, acme_member):
    with caught(core_signals.member_removed, Membership) as gone:
        Organization.objects.filter(pk=acme.pk).delete()
    assert len(gone) == 1 and gone[0]["user"] == acme_member


# ---- how the app connects its receivers ----------------------------------------------------------------------


def test_every_model_receiver_of_the_app_names_its_sender():
    """A receiver without a sender runs on every save in the process (the sign-in path saves a lot)."""
    anonymous = _make_id(None)
    for signal in (pre_save, post_save, pre_delete, post_delete):
        for (uid, sender_id), ref, *_ in signal.receivers:
            function = ref() if isinstance(ref, weakref.ref) else ref
            name = f"{getattr(function, '__module__', '')}.{getattr(function, '__qualname__', function)}"
            if name.startswith("jeto_identity") or str(uid).startswith("jeto"):
                assert sender_id != anonymous, f"{name} has no sender"
                assert isinstance(uid, str), f"{name} has no dispatch_uid"
