"""The account security page: connected applications, recent activity, security mail and "this wasn't me"."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from jeto_identity.core import mail as jeto_mail
from jeto_identity.models import AuditEvent, UserSession, WebAuthnDevice
from jeto_identity.security import services
from tests.conftest import sign_in
from tests.identity.mfa_support import enrol, sign_in_fully
from tests.identity.oidc_support import authorize_params, authorize_url, pkce_pair, register_rp
from tests.identity.test_sessions import refresh, tokens_through
from tests.identity.webauthn_support import SoftAuthenticator, post_json

pytestmark = pytest.mark.django_db


def sent(subject_part: str) -> list:
    jeto_mail.wait_for_pending()
    return [m for m in mail.outbox if subject_part in m.subject]


def not_me_link(message) -> str:
    return re.search(r"https?://[^/\s]+(/account/security/not-me/[^/\s]+/)", message.body).group(1)


def test_the_page_needs_a_signed_in_user(client):
    assert client.get("/account/security/").url.startswith("/login/")


def test_connected_applications_are_listed_and_revoked(client, acme_member, password):
    notes = register_rp("Notes")
    sign_in(client, acme_member.email, password)
    tokens = tokens_through_consent(client, notes)
    page = client.get("/account/security/")
    apps = page.context["apps"]
    assert [a.application.name for a in apps] == ["Notes"] and "openid" in apps[0].scopes
    assert b"Revoke access" in page.content
    assert client.post(f"/account/apps/{notes.client.client_id}/revoke/").status_code == 302
    assert client.get("/account/security/").context["apps"] == []
    assert refresh(client, notes, tokens["refresh_token"]).status_code == 400
    # Consent is asked again at the next authorization.
    _, challenge = pkce_pair()
    again = client.get(authorize_url(authorize_params(notes.client.client_id, challenge)))
    assert again.status_code == 200 and b"Allow" in again.content
    assert AuditEvent.objects.filter(event="consent.revoked", details__client_id=notes.client.client_id).exists()


def tokens_through_consent(client: Client, registration) -> dict:
    """The code flow through the consent page (an untrusted relying party)."""
    from tests.identity.oidc_support import REDIRECT_URI, form_inputs, query

    verifier, challenge = pkce_pair()
    url = authorize_url(authorize_params(registration.client.client_id, challenge))
    page = client.get(url)
    form = form_inputs(page.content.decode())
    form["allow"] = "Allow"
    code = query(client.post(url, form)["Location"])["code"]
    return client.post(
        "/o/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
            "client_id": registration.client.client_id,
            "client_secret": registration.client_secret,
        },
    ).json()


def test_revoking_an_app_you_never_used_or_another_users_grant_changes_nothing(acme_member, globex_member, password):
    notes = register_rp("Notes", trusted=True)
    theirs = Client()
    sign_in(theirs, globex_member.email, password)
    their_tokens = tokens_through(theirs, notes)
    mine = Client()
    sign_in(mine, acme_member.email, password)
    assert mine.post(f"/account/apps/{notes.client.client_id}/revoke/").status_code == 302
    assert mine.post("/account/apps/no-such-client/revoke/").status_code == 302
    assert refresh(theirs, notes, their_tokens["refresh_token"]).status_code == 200


def test_recent_activity_shows_sign_ins_and_failures(client, acme_member, password):
    sign_in(client, acme_member.email, "wrong password!")
    sign_in(client, acme_member.email, password)
    labels = [label for _, label in client.get("/account/security/").context["activity"]]
    assert "Signed in" in labels and "Sign-in failed" in labels


def test_activity_never_shows_another_users_events(client, acme_member, globex_member, password):
    other = Client()
    sign_in(other, globex_member.email, password)
    sign_in(client, acme_member.email, password)
    events = [e for e, _ in client.get("/account/security/").context["activity"]]
    assert events and all(acme_member.pk in (e.subject_id, e.actor_id) for e in events)


def test_new_device_mail_and_its_opt_out(acme_member, password):
    first = Client()
    sign_in(first, acme_member.email, password)
    assert sent("New sign-in") == []  # the first sign-in ever is not a new device
    sign_in(first, acme_member.email, password)
    assert sent("New sign-in") == []  # the same browser (its device cookie) is known
    sign_in(Client(HTTP_USER_AGENT="Mozilla/5.0 (Macintosh) Firefox/130.0"), acme_member.email, password)
    messages = sent("New sign-in")
    assert len(messages) == 1 and messages[0].to == [acme_member.email] and "Firefox" in messages[0].body
    assert first.post("/account/notifications/", {}).status_code == 302  # unticked
    acme_member.refresh_from_db()
    assert acme_member.notify_new_sign_ins is False
    sign_in(Client(), acme_member.email, password)
    assert len(sent("New sign-in")) == 1


def test_a_returning_user_on_a_new_browser_is_told_without_a_search_of_their_sessions(acme_member, password):
    """last_login (read before the sign-in stamps it) says the user signed in before: no session-table search."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    sign_in(Client(), acme_member.email, password)
    UserSession.objects.filter(user=acme_member).delete()  # e.g. signed in before the registry kept rows
    with CaptureQueriesContext(connection) as queries:
        sign_in(Client(HTTP_USER_AGENT="Mozilla/5.0 (X11) Firefox/131.0"), acme_member.email, password)
    assert len(sent("New sign-in")) == 1
    assert not [q for q in queries.captured_queries if q["sql"].startswith("SELECT") and "usersession" in q["sql"]]


def test_a_first_sign_in_ever_is_no_new_device_even_with_an_old_session_row_missing(acme_member, password):
    acme_member.last_login = None
    acme_member.save(update_fields=["last_login"])
    sign_in(Client(), acme_member.email, password)
    assert sent("New sign-in") == []


def test_a_tampered_device_cookie_counts_as_a_new_device(acme_member, password):
    sign_in(Client(), acme_member.email, password)
    browser = Client()
    browser.cookies["jeto_device"] = "forged"
    sign_in(browser, acme_member.email, password)
    assert len(sent("New sign-in")) == 1


def test_password_change_mail(client, acme_member, password):
    sign_in(client, acme_member.email, password)
    new = "another long passphrase 42"
    response = client.post("/account/password/", {"old_password": password, "new_password1": new, "new_password2": new})
    assert response.status_code == 302
    assert len(sent("password was changed")) == 1


def test_this_wasnt_me_after_a_passkey_was_added(acme_member, password):
    attacker, owner = Client(), Client()
    sign_in(owner, acme_member.email, password)
    sign_in(attacker, acme_member.email, password)
    options = post_json(attacker, "/account/passkeys/add/options/").json()
    post_json(attacker, "/account/passkeys/add/finish/", {"credential": SoftAuthenticator().create(options)})
    assert WebAuthnDevice.objects.filter(user=acme_member).exists()
    link = not_me_link(sent("was added")[0])
    page = Client().get(link)
    assert page.status_code == 200 and b"Secure my account" in page.content
    done = Client().post(link)
    assert done.status_code == 302 and done.url == "/password-reset/"
    assert not WebAuthnDevice.objects.filter(user=acme_member).exists()  # the added passkey is gone
    assert attacker.get("/account/").status_code == 302 and owner.get("/account/").status_code == 302
    assert not UserSession.objects.filter(user=acme_member, ended_at__isnull=True).exists()
    assert AuditEvent.objects.filter(event="security.not_me", subject_id=acme_member.pk).exists()


@pytest.mark.parametrize("token", ["garbage", "x" * 50])
def test_a_bad_not_me_link_is_a_400_and_ends_nothing(client, acme_member, password, token):
    browser = Client()
    sign_in(browser, acme_member.email, password)
    assert client.get(f"/account/security/not-me/{token}/").status_code == 400
    assert client.post(f"/account/security/not-me/{token}/").status_code == 400
    assert browser.get("/account/").status_code == 200


def test_factor_mail_for_an_authenticator_app_and_its_removal(client, acme_member, password):
    device, _ = enrol(acme_member)
    assert len(sent("was added")) == 1
    sign_in_fully(client, acme_member, device, password)
    client.post("/account/mfa/remove/")
    assert len(sent("was removed")) == 1


def test_user_agents_are_described_for_people():
    assert services.describe_user_agent("") == "Unknown browser"
    assert services.describe_user_agent("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1").endswith(
        "on iOS"
    )


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(acme_member, password):
    here, elsewhere = Client(), Client()
    sign_in(here, acme_member.email, password)
    sign_in(elsewhere, acme_member.email, password)
    new = "another long passphrase 42"
    here.post("/account/password/", {"old_password": password, "new_password1": new, "new_password2": new})
    assert here.get("/account/").status_code == 200
    assert elsewhere.get("/account/").status_code == 302
    open_rows = UserSession.objects.filter(user=acme_member, ended_at__isnull=True)
    assert [str(r.pk) for r in open_rows] == [here.session["jeto_sid"]]


def test_a_password_reset_ends_every_session_and_token(acme_member, password):
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    notes = register_rp("Notes", trusted=True)
    browser = Client()
    sign_in(browser, acme_member.email, password)
    tokens = tokens_through(browser, notes)
    acme_member.refresh_from_db()  # the token covers last_login, which the sign-in just set
    uid = urlsafe_base64_encode(force_bytes(acme_member.pk))
    token = default_token_generator.make_token(acme_member)
    resetter = Client()
    form_url = resetter.get(f"/password-reset/{uid}/{token}/").url
    new = "a brand new passphrase 77"
    assert resetter.post(form_url, {"new_password1": new, "new_password2": new}).status_code == 302
    assert browser.get("/account/").status_code == 302
    assert refresh(browser, notes, tokens["refresh_token"]).status_code == 400
    assert not UserSession.objects.filter(user=acme_member, ended_at__isnull=True).exists()
