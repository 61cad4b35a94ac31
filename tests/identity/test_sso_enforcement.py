"""Enforce SSO: password sign-in and reset are refused for the organisation's verified domains; break-glass."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import RequestFactory

from jeto_identity.core.mail import wait_for_pending
from jeto_identity.login import services as login_service
from jeto_identity.sso import services as sso_service
from tests.conftest import sign_in
from tests.sso_support import make_connection

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sso_env")]


@pytest.fixture
def enforced(acme, idp):
    acme.sso_enforced = True
    acme.save()
    return make_connection(acme, idp.url)


def _password_step(client, email, password):
    client.post("/login/password/", {})  # no pending yet: harmless
    session = client.session
    session[login_service.PENDING_KEY] = {"email": email, "next_url": "", "user_id": None, "amr": []}
    session.save()
    return client.post("/login/password/", {"password": password})


def test_password_sign_in_is_refused_for_an_enforced_domain(client, enforced, acme_member, password):
    response = _password_step(client, "max@acme.test", password)
    assert response.status_code == 403
    assert b"Acme requires single sign-on" in response.content
    assert f"/sso/{enforced.public_id}/start/".encode() in response.content
    assert client.session.get(SESSION_KEY) is None


def test_right_and_wrong_passwords_get_the_same_refusal(client, enforced, acme_member, password):
    right = _password_step(client, "max@acme.test", password)
    wrong = _password_step(client, "max@acme.test", "not-the-password-at-all")
    unknown = _password_step(client, "nobody@acme.test", password)
    assert right.status_code == wrong.status_code == unknown.status_code == 403
    bodies = [
        re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", r.content).replace(b"nobody@", b"max@")
        for r in (right, wrong, unknown)
    ]
    assert bodies[0] == bodies[1] == bodies[2]


def test_the_email_step_sends_enforced_domains_to_sso(client, enforced, acme_member, password):
    response = sign_in(client, "max@acme.test", password)
    assert client.session.get(SESSION_KEY) is None
    assert client.post("/login/", {"email": "max@acme.test"}).url == f"/sso/{enforced.public_id}/start/"
    assert response.status_code == 403


def test_password_step_page_tells_the_user_to_use_sso(client, enforced):
    client.post("/login/break-glass/")
    session = client.session
    session[login_service.PENDING_KEY] = {"email": "max@acme.test", "next_url": "", "user_id": None, "amr": []}
    session.save()
    page = client.get("/login/password/")
    assert b'data-testid="sso-required"' in page.content and b"Continue with single sign-on" in page.content


def test_without_enforcement_password_sign_in_still_works(client, acme, idp, acme_member, password):
    make_connection(acme, idp.url)
    response = _password_step(client, "max@acme.test", password)
    assert response.status_code == 302
    assert client.session.get(SESSION_KEY) == str(acme_member.pk)


def test_other_organisations_are_unaffected(client, enforced, globex_member, password):
    response = sign_in(client, "gus@globex.test", password)
    assert response.status_code == 302
    assert client.session.get(SESSION_KEY) == str(globex_member.pk)


def test_an_unverified_domain_is_never_enforced(client, enforced, make_user, password):
    enforced.organization.domains.create(domain="claimed.test", verified=False)
    user = make_user("victim@claimed.test")
    assert sign_in(client, "victim@claimed.test", password).status_code == 302
    assert client.session.get(SESSION_KEY) == str(user.pk)


def test_disabled_connection_with_enforcement_says_so(client, enforced, acme_member, password):
    enforced.enabled = False
    enforced.save()
    response = sign_in(client, "max@acme.test", password)
    assert response.status_code == 403
    assert b"its connection is switched off" in response.content


def test_superuser_break_glass_password_sign_in(client, enforced, make_user, password):
    root = make_user("root@acme.test", is_staff=True, is_superuser=True)
    # Without break-glass the email step sends them to the IdP like everyone else.
    assert client.post("/login/", {"email": "root@acme.test"}).url.endswith("/start/")
    assert client.get("/login/break-glass/").status_code == 302
    assert client.post("/login/", {"email": "root@acme.test"}).url == "/login/password/"
    response = client.post("/login/password/", {"password": password})
    assert response.status_code == 302
    assert client.session.get(SESSION_KEY) == str(root.pk)


def test_break_glass_gives_nothing_to_non_superusers(client, enforced, acme_admin, password):
    client.get("/login/break-glass/")
    assert client.post("/login/", {"email": "ada@acme.test"}).url == "/login/password/"
    response = client.post("/login/password/", {"password": password})
    assert response.status_code == 403
    assert client.session.get(SESSION_KEY) is None


def test_break_glass_wrong_password_is_still_refused(client, enforced, make_user):
    make_user("root@acme.test", is_staff=True, is_superuser=True)
    client.get("/login/break-glass/")
    client.post("/login/", {"email": "root@acme.test"})
    assert client.post("/login/password/", {"password": "wrong-wrong-wrong"}).status_code == 403
    assert client.session.get(SESSION_KEY) is None


def test_password_reset_is_refused_and_sends_no_mail(client, enforced, acme_member):
    response = client.post("/password-reset/", {"email": "Max@acme.test"})
    assert response.status_code == 400
    assert b"Acme requires single sign-on" in response.content
    wait_for_pending()
    assert mail.outbox == []


def test_password_reset_for_unknown_email_in_enforced_domain_gets_the_same_answer(client, enforced, acme_member):
    known = client.post("/password-reset/", {"email": "max@acme.test"})
    unknown = client.post("/password-reset/", {"email": "nobody@acme.test"})
    assert known.status_code == unknown.status_code == 400
    wait_for_pending()
    assert mail.outbox == []


def test_password_reset_still_works_elsewhere(client, enforced, globex_member):
    response = client.post("/password-reset/", {"email": "gus@globex.test"})
    assert response.status_code == 302
    wait_for_pending()
    assert len(mail.outbox) == 1


# ---- MFA after SSO (read by the MFA stage) ---------------------------------------------------------------------


def _request_with(session: dict):
    request = RequestFactory().get("/")
    request.session = session
    return request


def test_mfa_after_sso_is_off_by_default_and_only_applies_to_federated_logins(acme):
    pending = login_service.PendingLogin(email="a@acme.test", amr=["fed"])
    request = _request_with({sso_service.FEDERATED_ORG_SESSION_KEY: acme.pk})
    assert acme.mfa_after_sso is False
    assert sso_service.mfa_required_after_federation(request, pending) is False
    acme.mfa_after_sso = True
    acme.save()
    assert sso_service.mfa_required_after_federation(request, pending) is True
    password_login = login_service.PendingLogin(email="a@acme.test", amr=["pwd"])
    assert sso_service.mfa_required_after_federation(request, password_login) is None
