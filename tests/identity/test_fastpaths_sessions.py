"""The fast-path session engine (jeto_identity.contrib.fastpaths.sessions) against Django's database engine.

It leans on ``SessionBase``'s private ``_session_key``/``_session_cache``: a Django upgrade that changes them
fails here. The rows are Django's own, so each engine reads what the other wrote.
"""

from __future__ import annotations

import re
from unittest import mock

import pytest
from django.contrib.sessions.backends.base import CreateError, UpdateError
from django.contrib.sessions.backends.db import SessionStore as DjangoStore
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from jeto_identity.contrib.fastpaths.sessions import SessionStore as FastStore

pytestmark = pytest.mark.django_db(transaction=True)

FAST_ENGINE = "jeto_identity.contrib.fastpaths.sessions"


def _statements(queries) -> list[str]:
    return [q["sql"].split()[0].upper() for q in queries]


def test_a_new_session_is_one_insert_without_a_transaction_of_its_own():
    store = FastStore()
    store["k"] = "v"
    with CaptureQueriesContext(connection) as queries:
        store.save()
    assert _statements(queries.captured_queries) == ["INSERT"]
    assert DjangoStore(store.session_key)["k"] == "v"  # Django's engine reads the row


def test_django_writes_an_existence_check_and_a_transaction_for_the_same():
    """What the fast path saves, measured on the stock engine (if Django stops doing it, drop the fast path)."""
    store = DjangoStore()
    store["k"] = "v"
    with CaptureQueriesContext(connection) as queries:
        store.save()
    assert len(queries.captured_queries) > 1


def test_each_engine_reads_and_updates_what_the_other_wrote():
    django_store = DjangoStore()
    django_store["a"] = 1
    django_store.save()
    fast = FastStore(django_store.session_key)
    assert fast["a"] == 1
    fast["b"] = 2
    with CaptureQueriesContext(connection) as queries:
        fast.save()
    assert _statements(queries.captured_queries) == ["UPDATE"]
    assert DjangoStore(django_store.session_key).load() == {"a": 1, "b": 2}


def test_cycle_key_moves_the_row_to_the_new_key_in_one_statement_with_the_final_data():
    store = FastStore()
    store["before"] = "x"
    store.save()
    old_key = store.session_key
    with CaptureQueriesContext(connection) as queries:
        store.cycle_key()
    assert queries.captured_queries == []  # nothing written until the response's save
    new_key = store.session_key
    assert new_key and new_key != old_key and len(new_key) == 32  # known before the save (others may read it)
    store["after"] = "y"
    with CaptureQueriesContext(connection) as queries:
        store.save()
    assert _statements(queries.captured_queries) == ["UPDATE"]
    assert not Session.objects.filter(session_key=old_key).exists()  # the old key names nothing any more
    assert DjangoStore(old_key).load() == {}
    assert DjangoStore(new_key).load() == {"before": "x", "after": "y"}
    assert Session.objects.count() == 1
    store["later"] = "z"
    with CaptureQueriesContext(connection) as queries:
        store.save()
    assert _statements(queries.captured_queries) == ["UPDATE"]
    assert DjangoStore(new_key).load() == {"before": "x", "after": "y", "later": "z"}


def test_cycling_twice_before_a_save_moves_the_stored_row_once():
    store = FastStore()
    store["k"] = 1
    store.save()
    first_key = store.session_key
    store.cycle_key()
    store.cycle_key()
    with CaptureQueriesContext(connection) as queries:
        store.save()
    assert _statements(queries.captured_queries) == ["UPDATE"]
    assert list(Session.objects.values_list("session_key", flat=True)) == [store.session_key]
    assert store.session_key != first_key
    assert DjangoStore(store.session_key).load() == {"k": 1}


def test_a_cycled_session_whose_row_is_gone_is_stored_as_a_new_row():
    store = FastStore()
    store["k"] = 1
    store.save()
    Session.objects.all().delete()  # ended elsewhere meanwhile
    store.cycle_key()
    with CaptureQueriesContext(connection) as queries:
        store.save()
    assert _statements(queries.captured_queries) == ["UPDATE", "INSERT"]
    assert DjangoStore(store.session_key).load() == {"k": 1}


def test_a_session_never_stored_is_inserted_when_cycled():
    store = FastStore()
    store["k"] = 1
    store.cycle_key()
    with CaptureQueriesContext(connection) as queries:
        store.save()
    assert _statements(queries.captured_queries) == ["INSERT"]
    assert DjangoStore(store.session_key).load() == {"k": 1}


def test_a_drawn_key_that_is_taken_never_overwrites_the_other_session():
    other = FastStore()
    other["owner"] = "someone else"
    other.save()
    store = FastStore()
    store["mine"] = 1
    store.save()
    with mock.patch.object(FastStore, "_get_new_session_key", side_effect=[other.session_key, "b" * 32]):
        store.cycle_key()
        store.save()
    assert store.session_key == "b" * 32
    assert DjangoStore(other.session_key).load() == {"owner": "someone else"}
    assert DjangoStore("b" * 32).load() == {"mine": 1}


def test_inside_a_transaction_a_refused_insert_leaves_the_callers_transaction_usable():
    taken = FastStore()
    taken.save()
    with transaction.atomic():
        store = FastStore()
        store._session_key = taken.session_key
        with pytest.raises(CreateError):
            store.save(must_create=True)
        assert Session.objects.filter(session_key=taken.session_key).count() == 1  # still usable


def test_updating_a_session_deleted_meanwhile_is_an_update_error_as_in_django():
    store = FastStore()
    store["k"] = 1
    store.save()
    Session.objects.filter(session_key=store.session_key).delete()
    store["k"] = 2
    with pytest.raises(UpdateError):
        store.save()
    django_store = DjangoStore(store.session_key)
    django_store._session_cache = {"k": 2}
    with pytest.raises(UpdateError):
        django_store.save()


def test_delete_is_one_statement_and_flush_forgets_the_key():
    store = FastStore()
    store["k"] = 1
    store.save()
    key = store.session_key
    with CaptureQueriesContext(connection) as queries:
        store.flush()
    assert _statements(queries.captured_queries) == ["DELETE"]
    assert store.session_key is None
    assert not Session.objects.filter(session_key=key).exists()


def test_a_session_cycled_and_then_flushed_is_never_written():
    store = FastStore()
    store["k"] = 1
    store.save()
    store.cycle_key()
    store.flush()
    store.save()  # a new, empty session: stored under a fresh key, never under the cycled one
    assert Session.objects.count() == 1


CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.mark.parametrize("engine", [FAST_ENGINE, "django.contrib.sessions.backends.db"])
def test_a_password_sign_in_rotates_the_key_and_keeps_one_row(settings, acme, make_user, password, engine):
    """The whole sign-in through the pages: the pre-password session row is gone, the signed-in one exists."""
    settings.SESSION_ENGINE = engine
    make_user("sam@acme.test")
    browser = Client(enforce_csrf_checks=True)
    token = CSRF.search(browser.get("/login/").content.decode()).group(1)
    response = browser.post("/login/", {"csrfmiddlewaretoken": token, "email": "sam@acme.test"})
    assert response.status_code == 302
    before = browser.cookies["sessionid"].value
    with CaptureQueriesContext(connection) as queries:
        response = browser.post(response["Location"], {"csrfmiddlewaretoken": token, "password": password})
    assert response.status_code == 302 and response["Location"] == "/account/"
    session_statements = [q for q in queries.captured_queries if "django_session" in q["sql"]]
    after = browser.cookies["sessionid"].value
    assert after != before
    assert list(Session.objects.values_list("session_key", flat=True)) == [after]
    assert browser.get("/account/").status_code == 200
    old_browser = Client()
    old_browser.cookies["sessionid"] = before  # someone holding the pre-password key gets nothing
    assert old_browser.get("/account/").status_code == 302
    if engine == FAST_ENGINE:
        assert _statements(session_statements) == ["SELECT", "UPDATE"]
    else:
        assert len(session_statements) > 3


def test_delete_sends_the_models_signals_when_something_listens():
    from django.db.models.signals import post_delete

    deleted = []

    def listener(sender, instance, **kwargs):
        deleted.append(instance.session_key)

    store = FastStore()
    store.save()
    key = store.session_key
    post_delete.connect(listener, sender=Session)
    try:
        store.delete()
    finally:
        post_delete.disconnect(listener, sender=Session)
    assert deleted == [key]


def test_a_session_is_read_as_djangos_engine_reads_it_expired_ones_included():
    from datetime import timedelta

    from django.utils import timezone

    store = DjangoStore()
    store["k"] = "v"
    store.save()
    fast = FastStore(store.session_key)
    with CaptureQueriesContext(connection) as queries:
        assert fast.load() == {"k": "v"}
    assert _statements(queries.captured_queries) == ["SELECT"]
    Session.objects.filter(session_key=store.session_key).update(expire_date=timezone.now() - timedelta(seconds=1))
    for engine in (FastStore, DjangoStore):
        expired = engine(store.session_key)
        assert expired.load() == {}
        assert expired.session_key is None  # forgotten: the response will not write under it
    unknown = FastStore("z" * 32)
    assert unknown.load() == {} and unknown.session_key is None


def test_saves_go_through_the_orm_with_their_signals_when_something_listens():
    from django.db.models.signals import post_save

    saved = []

    def listener(sender, instance, created, **kwargs):
        saved.append((instance.session_key, created))

    post_save.connect(listener, sender=Session)
    try:
        store = FastStore()
        store["k"] = 1
        store.save()
        store["k"] = 2
        store.save()
    finally:
        post_save.disconnect(listener, sender=Session)
    assert saved == [(store.session_key, True), (store.session_key, False)]
    assert DjangoStore(store.session_key).load() == {"k": 2}


def test_a_rotation_with_listeners_deletes_and_inserts_with_their_signals():
    from django.db.models.signals import post_delete, post_save

    events = []

    def saved(sender, instance, created, **kwargs):
        events.append(("saved", instance.session_key, created))

    def deleted(sender, instance, **kwargs):
        events.append(("deleted", instance.session_key))

    store = FastStore()
    store["k"] = 1
    store.save()
    old_key = store.session_key
    post_save.connect(saved, sender=Session)
    post_delete.connect(deleted, sender=Session)
    try:
        store.cycle_key()
        store.save()
    finally:
        post_save.disconnect(saved, sender=Session)
        post_delete.disconnect(deleted, sender=Session)
    assert events == [("deleted", old_key), ("saved", store.session_key, True)]
    assert list(Session.objects.values_list("session_key", flat=True)) == [store.session_key]
