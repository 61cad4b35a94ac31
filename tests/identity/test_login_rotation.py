"""The session key a browser had before giving its password never outlives the password step.

A sign-in that finishes in the same request is rotated once, by Django's ``login()``; one that stops at a stage
(second factor, enrolment) or fails in a stage is rotated by the pipeline itself.
"""

from __future__ import annotations

import pytest
from django.contrib.sessions.backends.db import SessionStore

STAGE_URL = "/next-stage/"


def stop_at_stage(request, user, pending):
    return STAGE_URL


def broken_stage(request, user, pending):
    raise RuntimeError("stage failed")


@pytest.fixture
def stages(settings):
    def use(*paths: str) -> None:
        settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "LOGIN_STAGES": list(paths)}

    return use


def _password_step(client, email: str, password: str):
    client.get("/login/")
    client.post("/login/", {"email": email})
    before = client.session.session_key
    return before, client.post("/login/password/", {"password": password})


def test_signed_in_in_one_request_leaves_one_new_session(client, acme_member, password, stages):
    stages()
    before, response = _password_step(client, acme_member.email, password)
    assert response.status_code == 302
    after = client.session.session_key
    assert after != before
    assert not SessionStore().exists(before)
    assert client.session["_auth_user_id"] == str(acme_member.pk)


def test_stopped_at_a_stage_the_half_signed_in_session_has_a_new_key(client, acme_member, password, stages):
    stages(f"{__name__}.stop_at_stage")
    before, response = _password_step(client, acme_member.email, password)
    assert response.status_code == 302 and response.url == STAGE_URL
    assert client.session.session_key != before
    assert not SessionStore().exists(before)
    assert "_auth_user_id" not in client.session
    assert client.session["jeto_login"]["user_id"] == str(acme_member.pk)


def test_a_failing_stage_still_retires_the_old_key(client, acme_member, password, stages):
    stages(f"{__name__}.broken_stage")
    client.raise_request_exception = False
    before, response = _password_step(client, acme_member.email, password)
    assert response.status_code == 500
    assert not SessionStore().exists(before)


def test_a_sign_in_that_fails_after_the_second_factor_still_retires_the_key(client, acme_member, password):
    """The second factor finishes the sign-in through ``advance``; an error in ``login()`` retires the key too."""
    from django.contrib.auth.signals import user_logged_in

    from tests.conftest import sign_in
    from tests.identity.mfa_support import code_for, enrol

    device, _ = enrol(acme_member)
    response = sign_in(client, acme_member.email, password)
    assert response.status_code == 302 and response.url == "/login/mfa/"
    before = client.session.session_key

    def failing_receiver(**kwargs):
        raise RuntimeError("a receiver failed")

    user_logged_in.connect(failing_receiver, dispatch_uid="test_failing_receiver")
    client.raise_request_exception = False
    try:
        response = client.post("/login/mfa/", {"code": code_for(device)})
    finally:
        user_logged_in.disconnect(dispatch_uid="test_failing_receiver")
    assert response.status_code == 500
    assert not SessionStore().exists(before)
