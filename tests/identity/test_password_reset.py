import re

import pytest
from django.core import mail

from jeto_identity.core.mail import wait_for_pending

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://testserver(/password-reset/[^/]+/[^/]+/)")


def _request_reset(client, email):
    response = client.post("/password-reset/", {"email": email})
    wait_for_pending()  # reset mail is sent from a background thread
    return response


def test_known_and_unknown_emails_get_the_same_answer(client, acme_member):
    known = _request_reset(client, "MAX@acme.test")
    unknown = _request_reset(client, "nobody@acme.test")
    assert known.status_code == unknown.status_code == 302
    assert known.url == unknown.url == "/password-reset/sent/"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["max@acme.test"]


def test_reset_link_sets_password_once_and_verifies_email(client, acme_member):
    _request_reset(client, "max@acme.test")
    path = LINK.search(mail.outbox[0].body).group(1)
    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200 and b"Choose a new password" in form_page.content
    set_url = form_page.redirect_chain[-1][0]
    new = "fresh and long passphrase"
    done = client.post(set_url, {"new_password1": new, "new_password2": new})
    assert done.status_code == 302
    acme_member.refresh_from_db()
    assert acme_member.check_password(new) and acme_member.email_verified
    # The same link again: refused.
    again = type(client)().get(path, follow=True)
    assert b"This link no longer works" in again.content


def test_reset_enforces_password_policy(client, acme_member):
    _request_reset(client, "max@acme.test")
    path = LINK.search(mail.outbox[0].body).group(1)
    set_url = client.get(path, follow=True).redirect_chain[-1][0]
    response = client.post(set_url, {"new_password1": "short", "new_password2": "short"})
    assert response.status_code == 400  # a rejected form is a 4xx, not a success status
    assert b"too short" in response.content


def test_expired_link_is_refused(client, acme_member, settings):
    _request_reset(client, "max@acme.test")
    path = LINK.search(mail.outbox[0].body).group(1)
    settings.PASSWORD_RESET_TIMEOUT = -1
    assert b"This link no longer works" in client.get(path, follow=True).content


def test_tampered_token_is_refused(client, acme_member):
    _request_reset(client, "max@acme.test")
    path = LINK.search(mail.outbox[0].body).group(1)
    assert b"This link no longer works" in client.get(path[:-3] + "zz/", follow=True).content


def test_reset_mail_leaves_the_request_path(client, acme_member, settings):
    """Timing: the known-address response does not wait for the mail backend (enumeration by timing)."""
    import threading
    import time

    release = threading.Event()
    sent = []

    class SlowBackend:
        def __init__(self, *args, **kwargs):
            pass

        def send_messages(self, messages):
            release.wait(5)
            sent.extend(messages)
            return len(messages)

    from unittest import mock

    with mock.patch("django.core.mail.get_connection", lambda *a, **k: SlowBackend()):
        started = time.monotonic()
        response = client.post("/password-reset/", {"email": "max@acme.test"})
        elapsed = time.monotonic() - started
        assert response.status_code == 302
        assert elapsed < 2 and not sent  # answered while the mail is still waiting to go out
        release.set()
        wait_for_pending()
    assert [m.to for m in sent] == [["max@acme.test"]]
