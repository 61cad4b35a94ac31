"""Sessions across devices: the registry, ending sessions with any engine, and the tokens issued in them."""

from __future__ import annotations

import hashlib
import time

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from jeto_identity.core import sessions
from jeto_identity.models import AuditEvent, AuthenticationContext, UserSession
from tests.conftest import sign_in
from tests.identity.oidc_support import REDIRECT_URI, authorize_params, authorize_url, pkce_pair, query, register_rp

pytestmark = pytest.mark.django_db

AccessToken, RefreshToken = get_access_token_model(), get_refresh_token_model()
ENGINES = [
    "django.contrib.sessions.backends.db",
    "django.contrib.sessions.backends.cache",
    "django.contrib.sessions.backends.cached_db",
    "django.contrib.sessions.backends.signed_cookies",
]


def checksum(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()  # DOT keeps only the SHA-256 of a token


def tokens_through(client: Client, registration) -> dict:
    """The code flow from a signed-in browser: an RP's tokens, authorised in this browser's session."""
    verifier, challenge = pkce_pair()
    redirect = client.get(authorize_url(authorize_params(registration.client.client_id, challenge)))
    code = query(redirect["Location"])["code"]
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


def refresh(client: Client, registration, token: str):
    return client.post(
        "/o/token/",
        {
            "grant_type": "refresh_token",
            "refresh_token": token,
            "client_id": registration.client.client_id,
            "client_secret": registration.client_secret,
        },
    )


def test_a_sign_in_registers_its_session(client, acme_member, password):
    sign_in(client, acme_member.email, password)
    row = UserSession.objects.get(user=acme_member)
    assert client.session[sessions.SESSION_ID_KEY] == str(row.pk)
    assert row.active and row.ip_address == "127.0.0.1" and row.amr == ["pwd"]


def test_an_ordinary_request_reads_the_cache_and_writes_nothing(client, acme_member, password):
    sign_in(client, acme_member.email, password)
    client.get("/account/")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/account/").status_code == 200
    assert not [q for q in queries.captured_queries if "usersession" in q["sql"].lower()]


@override_settings(JETO_IDENTITY={"SESSION_LAST_SEEN_SECONDS": 1})
def test_last_seen_is_written_at_most_once_per_interval(client, acme_member, password):
    sign_in(client, acme_member.email, password)
    row = UserSession.objects.get()
    cache.set(sessions._cache_key(row.pk), time.time() - 5)  # the last touch was 5 s ago
    client.get("/account/")
    assert UserSession.objects.get().last_seen_at > row.last_seen_at


@pytest.mark.parametrize("engine", ENGINES)
def test_ending_the_other_sessions_signs_them_out_whatever_the_engine(engine, acme_member, password, settings):
    settings.SESSION_ENGINE = engine
    laptop, phone = Client(), Client()
    sign_in(laptop, acme_member.email, password)
    sign_in(phone, acme_member.email, password)
    assert phone.get("/account/").status_code == 200
    ended = sessions.end_user_sessions(acme_member, keep_session_key=laptop.session.session_key, reason="test")
    assert ended == 1
    assert phone.get("/account/").status_code == 302  # signed out at its next request
    assert laptop.get("/account/").status_code == 200
    assert UserSession.objects.filter(user=acme_member, ended_at__isnull=True).count() == 1


def test_tokens_issued_in_an_ended_session_are_revoked_and_the_kept_ones_are_not(acme_member, password):
    registration = register_rp("Notes", trusted=True)
    laptop, phone = Client(), Client()
    sign_in(laptop, acme_member.email, password)
    sign_in(phone, acme_member.email, password)
    kept, lost = tokens_through(laptop, registration), tokens_through(phone, registration)
    assert AuthenticationContext.objects.filter(session__isnull=False).count() == 2
    sessions.end_user_sessions(acme_member, keep_session_key=laptop.session.session_key, reason="test")
    assert refresh(phone, registration, lost["refresh_token"]).status_code == 400
    assert not AccessToken.objects.filter(token_checksum=checksum(lost["access_token"])).exists()
    assert AccessToken.objects.filter(token_checksum=checksum(kept["access_token"])).exists()
    assert refresh(laptop, registration, kept["refresh_token"]).status_code == 200


def test_ending_everything_revokes_every_token_of_the_user(acme_member, globex_member, password):
    registration = register_rp("Notes", trusted=True)
    browser, other = Client(), Client()
    sign_in(browser, acme_member.email, password)
    sign_in(other, globex_member.email, password)
    mine, theirs = tokens_through(browser, registration), tokens_through(other, registration)
    assert sessions.end_user_sessions(acme_member, reason="deprovisioned") == 1
    assert browser.get("/account/").status_code == 302
    assert refresh(browser, registration, mine["refresh_token"]).status_code == 400
    assert not AccessToken.objects.filter(user=acme_member).exists()
    assert refresh(other, registration, theirs["refresh_token"]).status_code == 200  # another user: untouched


def test_ending_a_session_of_another_user_ends_nothing(acme_member, globex_member, password):
    theirs = Client()
    sign_in(theirs, globex_member.email, password)
    row = UserSession.objects.get(user=globex_member)
    assert sessions.end_session(acme_member, str(row.pk), reason="test") is False
    assert sessions.end_session(acme_member, "not-a-uuid", reason="test") is False
    assert theirs.get("/account/").status_code == 200


def test_signing_out_ends_the_registry_row(client, acme_member, password):
    sign_in(client, acme_member.email, password)
    client.post("/logout/")
    assert UserSession.objects.get().end_reason == "signed_out"


def test_an_ended_session_is_noticed_even_when_its_cache_entry_is_gone(client, acme_member, password):
    sign_in(client, acme_member.email, password)
    UserSession.objects.update(ended_at="2026-01-01T00:00:00Z")  # e.g. ended by another node, cache evicted
    cache.clear()
    assert client.get("/account/").status_code == 302


# --- the security page's sessions section ----------------------------------------------------------------------


def test_the_security_page_lists_sessions_and_ends_one(acme_member, password):
    laptop, phone = Client(HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 Safari/537.36"), Client()
    sign_in(laptop, acme_member.email, password)
    sign_in(phone, acme_member.email, password)
    page = laptop.get("/account/security/")
    rows = page.context["sessions"]
    assert len(rows) == 2 and rows[0]["current"] and rows[0]["browser"] == "Chrome on Linux"
    other = rows[1]["id"]
    assert laptop.post(f"/account/sessions/{other}/end/").status_code == 302
    assert phone.get("/account/").status_code == 302
    assert laptop.get("/account/").status_code == 200
    assert AuditEvent.objects.filter(event="session.ended", subject_id=acme_member.pk).exists()


def test_sign_out_everywhere_else(acme_member, password):
    browsers = [Client() for _ in range(3)]
    for browser in browsers:
        sign_in(browser, acme_member.email, password)
    assert browsers[0].post("/account/sessions/end-others/").status_code == 302
    assert [b.get("/account/").status_code for b in browsers] == [200, 302, 302]


def test_signing_out_the_current_session_from_the_list(client, acme_member, password):
    sign_in(client, acme_member.email, password)
    current = client.session[sessions.SESSION_ID_KEY]
    assert client.post(f"/account/sessions/{current}/end/").url == "/login/"
    assert client.get("/account/").status_code == 302


def test_a_foreign_session_id_from_the_page_ends_nothing(client, acme_member, globex_member, password):
    theirs = Client()
    sign_in(theirs, globex_member.email, password)
    sign_in(client, acme_member.email, password)
    foreign = UserSession.objects.get(user=globex_member).pk
    client.post(f"/account/sessions/{foreign}/end/")
    assert theirs.get("/account/").status_code == 200


def test_cleanup_deletes_ended_and_stale_rows_only(acme_member, password):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    live, ended, stale = Client(), Client(), Client()
    for browser in (live, ended, stale):
        sign_in(browser, acme_member.email, password)
    ended_id, stale_id = ended.session[sessions.SESSION_ID_KEY], stale.session[sessions.SESSION_ID_KEY]
    UserSession.objects.filter(pk=ended_id).update(ended_at=timezone.now() - timedelta(days=2))
    UserSession.objects.filter(pk=stale_id).update(last_seen_at=timezone.now() - timedelta(days=400))
    call_command("jeto_cleanup", "--only", "sessions")
    assert list(UserSession.objects.values_list("pk", flat=True)) == [
        UserSession.objects.get(pk=live.session[sessions.SESSION_ID_KEY]).pk
    ]
    assert live.get("/account/").status_code == 200
    cache.delete(sessions._cache_key(stale_id))  # a year unseen: its cache entry is long gone too
    assert stale.get("/account/").status_code == 302  # its row is gone: it is not a session we know


def test_a_session_from_before_the_registry_is_adopted_once_without_mail(client, acme_member, password):
    from django.core import mail

    sign_in(client, acme_member.email, password)
    UserSession.objects.all().delete()
    session = client.session
    del session[sessions.SESSION_ID_KEY]
    session.save()
    assert client.get("/account/").status_code == 200
    adopted = UserSession.objects.get(user=acme_member)
    assert client.session[sessions.SESSION_ID_KEY] == str(adopted.pk)
    client.get("/account/")
    assert UserSession.objects.count() == 1 and mail.outbox == []
    assert sessions.end_user_sessions(acme_member, reason="test") == 1
    assert client.get("/account/").status_code == 302


def test_signing_in_again_in_the_same_browser_leaves_one_open_row(client, acme_member, password):
    sign_in(client, acme_member.email, password)
    sign_in(client, acme_member.email, password)
    open_rows = UserSession.objects.filter(user=acme_member, ended_at__isnull=True)
    assert [str(r.pk) for r in open_rows] == [client.session[sessions.SESSION_ID_KEY]]
    assert client.get("/account/").status_code == 200


@pytest.mark.parametrize("keep_this_one", [True, False])
def test_a_code_authorised_in_an_ended_session_buys_no_tokens(acme_member, password, keep_this_one):
    """A code issued just before its session ended is deleted with it (it would otherwise work for its lifetime),
    while a code authorised in the session that is kept still works."""
    from jeto_identity.core import sessions as registry

    notes = register_rp("Notes", trusted=True)
    ended_browser, kept_browser = Client(), Client()
    sign_in(ended_browser, acme_member.email, password)
    sign_in(kept_browser, acme_member.email, password)

    def pending_code(browser):
        verifier, challenge = pkce_pair()
        redirect = browser.get(authorize_url(authorize_params(notes.client.client_id, challenge)))
        return query(redirect["Location"])["code"], verifier

    def redeem(browser, code, verifier):
        return browser.post(
            "/o/token/",
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier,
                "client_id": notes.client.client_id,
                "client_secret": notes.client_secret,
            },
        )

    ended_code = pending_code(ended_browser)
    kept_code = pending_code(kept_browser)
    keep = kept_browser.cookies["sessionid"].value if keep_this_one else None
    registry.end_user_sessions(acme_member, keep_session_key=keep, reason="test")
    assert redeem(Client(), *ended_code).json()["error"] == "invalid_grant"
    kept = redeem(Client(), *kept_code)
    if keep_this_one:
        assert kept.status_code == 200 and "id_token" in kept.json()
    else:
        assert kept.json()["error"] == "invalid_grant"
