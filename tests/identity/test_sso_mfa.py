"""MFA after SSO: the IdP's organisation decides whether our TOTP is asked for after a federated sign-in."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY

from jeto_identity.login import services as login_service
from jeto_identity.models import User
from tests.identity.mfa_support import code_for, enrol
from tests.sso_support import make_connection, sso_sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sso_env")]


@pytest.fixture
def acme_sso(acme, idp):
    return make_connection(acme, idp.url)


def test_by_default_sso_skips_our_totp_even_when_the_org_requires_mfa(client, acme, acme_sso, acme_member, idp):
    acme.mfa_required = True
    acme.save()
    device, _ = enrol(acme_member)
    idp.put_user("sub-max", email="max@acme.test", email_verified=True)
    response = sso_sign_in(client, idp, "max@acme.test", "sub-max")
    assert response.status_code == 302 and response.url == "/account/"
    assert client.session.get(SESSION_KEY) == str(acme_member.pk)
    assert client.session[login_service.AMR_SESSION_KEY] == ["fed"]
    # The MFA policy middleware lets the federated session through (no sign-out loop, no forced enrolment).
    assert client.get("/account/").status_code == 200


def test_policy_middleware_applies_once_mfa_after_sso_is_switched_on(client, acme, acme_sso, acme_member, idp):
    enrol(acme_member)
    idp.put_user("sub-max", email="max@acme.test", email_verified=True)
    sso_sign_in(client, idp, "max@acme.test", "sub-max")
    assert client.get("/account/").status_code == 200
    acme.mfa_after_sso = True
    acme.save()
    response = client.get("/account/")
    assert response.status_code == 302 and response.url.startswith("/login/")
    assert client.session.get(SESSION_KEY) is None


def test_new_sso_user_in_an_mfa_org_is_not_forced_to_enrol(client, acme, acme_sso, idp):
    acme.mfa_required = True
    acme.save()
    idp.put_user("sub-n", email="nomfa@acme.test", email_verified=True)
    sso_sign_in(client, idp, "nomfa@acme.test", "sub-n")
    assert client.get("/account/").status_code == 200


def test_mfa_after_sso_challenges_an_enrolled_user_before_signing_in(client, acme, acme_sso, acme_member, idp):
    acme.mfa_after_sso = True
    acme.save()
    device, _ = enrol(acme_member)
    idp.put_user("sub-max", email="max@acme.test", email_verified=True)
    response = sso_sign_in(client, idp, "max@acme.test", "sub-max")
    assert response.status_code == 302 and response.url == "/login/mfa/"
    assert client.session.get(SESSION_KEY) is None
    done = client.post("/login/mfa/", {"code": code_for(device)})
    assert done.status_code == 302
    assert client.session.get(SESSION_KEY) == str(acme_member.pk)
    assert client.session[login_service.AMR_SESSION_KEY] == ["fed", "otp", "mfa"]
    assert client.get("/account/").status_code == 200


def test_mfa_after_sso_sends_a_new_user_to_enrolment(client, acme, acme_sso, idp):
    acme.mfa_after_sso = True
    acme.save()
    idp.put_user("sub-new", email="newbie@acme.test", email_verified=True)
    response = sso_sign_in(client, idp, "newbie@acme.test", "sub-new")
    assert response.status_code == 302 and response.url == "/login/mfa/setup/"
    assert User.objects.filter(email="newbie@acme.test").exists()
    assert client.session.get(SESSION_KEY) is None


def test_password_sign_in_keeps_the_usual_mfa_rules(client, acme, acme_sso, acme_member, password):
    """The flag is about federated sign-ins only: a password sign-in with a device is still challenged."""
    from tests.conftest import sign_in

    enrol(acme_member)
    client.get("/login/break-glass/")  # reach the password step despite the connection
    response = sign_in(client, "max@acme.test", password)
    assert response.status_code == 302 and response.url == "/login/mfa/"
