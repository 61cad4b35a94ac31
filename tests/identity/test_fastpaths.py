"""The hot-path parts behind issue 4's throughput: each keeps the behaviour of the library part it speeds up."""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta
from unittest import mock

import pytest
from csp.constants import NONCE
from django.db import connection, connections
from django.http import HttpResponse
from django.test import Client as DjangoClient
from django.test import RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils.functional import SimpleLazyObject
from oauth2_provider.models import get_access_token_model

from jeto_identity import csp as jeto_csp
from jeto_identity.cache.redis import RedisCache
from jeto_identity.connections import bearer
from jeto_identity.db.backends.postgresql.base import DatabaseWrapper
from jeto_identity.db.lookup import ExactLookup
from jeto_identity.models import OAuthClient, Organization
from jeto_identity.provider.tokens import generate_token
from jeto_identity.throttle import services as throttle
from jeto_identity.throttle.handler import CacheHandler
from tests.api_clients_support import api, get_token, request_token
from tests.requirements import require_postgresql, require_redis

# -- PostgreSQL backend: health checks skipped only on a connection proven moments ago ---------------------------


def _wrapper(window: float = 1.0) -> DatabaseWrapper:
    settings_dict = {
        "ENGINE": "jeto_identity.db.backends.postgresql",
        "NAME": "unused",
        "USER": "",
        "PASSWORD": "",
        "HOST": "",
        "PORT": "",
        "OPTIONS": {},
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        "AUTOCOMMIT": True,
        "ATOMIC_REQUESTS": False,
        "TIME_ZONE": None,
        "TEST": {},
        "HEALTH_CHECK_BYPASS_SECONDS": window,
    }
    wrapper = DatabaseWrapper(settings_dict)
    wrapper.connection = mock.Mock()  # an open connection; nothing here talks to a server
    wrapper.health_check_enabled = True
    wrapper.get_autocommit = lambda: True
    return wrapper


def _finish_request(wrapper: DatabaseWrapper, *, used: bool, error: bool = False) -> None:
    wrapper.health_check_done = used
    wrapper.errors_occurred = error
    wrapper.close_if_unusable_or_obsolete()


def test_a_connection_proven_by_the_last_request_is_not_pinged():
    wrapper = _wrapper()
    _finish_request(wrapper, used=True)
    with mock.patch.object(DatabaseWrapper, "is_usable", return_value=True) as ping:
        wrapper.close_if_health_check_failed()
    assert ping.call_count == 0 and wrapper.health_check_done


def test_a_connection_idle_past_the_window_is_pinged_and_replaced_when_dead():
    wrapper = _wrapper()
    _finish_request(wrapper, used=True)
    wrapper.proven_at -= 1.5
    with mock.patch.object(DatabaseWrapper, "is_usable", return_value=False) as ping:
        with mock.patch.object(DatabaseWrapper, "close") as close:
            wrapper.close_if_health_check_failed()
    assert ping.call_count == 1 and close.call_count == 1


def test_a_request_that_did_not_use_the_connection_proves_nothing():
    wrapper = _wrapper()
    _finish_request(wrapper, used=False)  # e.g. the request_started call, or a cache-only request
    with mock.patch.object(DatabaseWrapper, "is_usable", return_value=True) as ping:
        wrapper.close_if_health_check_failed()
    assert ping.call_count == 1


def test_a_connection_error_proves_nothing():
    wrapper = _wrapper()
    with mock.patch.object(DatabaseWrapper, "is_usable", return_value=True) as ping:
        _finish_request(wrapper, used=True, error=True)  # Django pings it when the request ends: usable, kept
    assert ping.call_count == 1 and wrapper.proven_at == float("-inf")
    with mock.patch.object(DatabaseWrapper, "is_usable", return_value=False):
        with mock.patch.object(DatabaseWrapper, "close") as close:
            _finish_request(wrapper, used=True, error=True)  # dead: Django closes it
    assert close.call_count == 1 and wrapper.proven_at == float("-inf")


def test_window_zero_is_djangos_behaviour():
    wrapper = _wrapper(window=0)
    _finish_request(wrapper, used=True)
    with mock.patch.object(DatabaseWrapper, "is_usable", return_value=True) as ping:
        wrapper.close_if_health_check_failed()
    assert ping.call_count == 1


def test_a_new_connection_starts_unproven():
    wrapper = _wrapper()
    _finish_request(wrapper, used=True)
    with mock.patch("django.db.backends.postgresql.base.DatabaseWrapper.connect"):
        wrapper.connect()
    assert wrapper.proven_at == float("-inf")


@pytest.mark.django_db
def test_portal_uses_the_backend_on_postgresql():
    require_postgresql()
    assert connection.settings_dict["ENGINE"] == "jeto_identity.db.backends.postgresql"
    assert isinstance(connections["default"], DatabaseWrapper)


# -- Redis cache: one client per pool ---------------------------------------------------------------------------


def test_redis_cache_reuses_one_client_across_calls_and_threads():
    cache = RedisCache("redis://127.0.0.1:1/0", {})  # never connected: building clients opens no socket
    first = cache._cache.get_client("k")
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(cache._cache.get_client("k"))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(client is first for client in seen)
    assert cache._cache.get_client("k", write=True) is first  # one server: reads and writes share its pool


def test_redis_cache_round_trip_on_a_real_server():
    url = require_redis()
    cache = RedisCache(url, {"KEY_PREFIX": "jeto-test-fast-paths"})
    cache.set("k", {"v": 1}, 5)
    assert cache.get("k") == {"v": 1} and cache.get_many(["k", "missing"]) == {"k": {"v": 1}}
    cache.delete("k")
    assert cache.get("k") is None


# -- axes' cache handler: one read for both counters -------------------------------------------------------------


@pytest.mark.django_db
def test_handler_reads_both_counters_at_once_and_reports_the_highest(rf: RequestFactory):
    request = rf.post("/o/token/", REMOTE_ADDR="192.0.2.7")
    handler = CacheHandler()
    credentials = {"email": "client:abc"}
    with mock.patch.object(handler.cache, "get_many", wraps=handler.cache.get_many) as get_many:
        assert handler.get_failures(request, credentials) == 0
    assert get_many.call_count == 1
    for _ in range(3):
        throttle.failed(rf.post("/o/token/", REMOTE_ADDR="192.0.2.7"), throttle.CLIENT_SECRET, "abc")
    other_address = rf.post("/o/token/", REMOTE_ADDR="192.0.2.8")
    assert handler.get_failures(request, credentials) == 3
    assert handler.get_failures(other_address, credentials) == 3  # the key's counter
    assert handler.get_failures(other_address, {"email": "client:other"}) == 0
    assert sorted(request.jeto_throttle_counts.values()) == [3, 3]


@pytest.mark.django_db
def test_success_resets_a_counted_key_and_skips_the_cache_when_there_was_none(rf: RequestFactory):
    cache = throttle._handler().get_implementation().cache
    clean = rf.post("/o/token/", REMOTE_ADDR="192.0.2.9")
    throttle.check(clean, throttle.CLIENT_SECRET, "quiet-client")
    with mock.patch.object(cache, "delete_many") as delete_many:
        throttle.succeeded(clean, throttle.CLIENT_SECRET, "quiet-client")
    assert delete_many.call_count == 0

    failing = rf.post("/o/token/", REMOTE_ADDR="192.0.2.9")
    throttle.failed(failing, throttle.CLIENT_SECRET, "busy-client")
    later = rf.post("/o/token/", REMOTE_ADDR="192.0.2.9")
    throttle.check(later, throttle.CLIENT_SECRET, "busy-client")
    throttle.succeeded(later, throttle.CLIENT_SECRET, "busy-client")
    fresh = rf.post("/o/token/", REMOTE_ADDR="192.0.2.10")
    throttle.check(fresh, throttle.CLIENT_SECRET, "busy-client")
    assert max(fresh.jeto_throttle_counts.values()) == 0  # the key's counter was reset


# -- token values ----------------------------------------------------------------------------------------------


def test_generated_tokens_are_256_bit_b64token_values():
    values = {generate_token(None) for _ in range(200)}
    assert len(values) == 200
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{43}", v) for v in values)


@pytest.mark.django_db
def test_granted_tokens_use_the_generator(client, acme_conn):
    body = request_token(client, acme_conn.client_id, acme_conn.client_secret).json()
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", body["access_token"])


# -- CSP: the settings' policy built once, per-response policies untouched ---------------------------------------


def _csp_response(rf: RequestFactory, path: str = "/", **attrs) -> tuple:
    from csp.middleware import CSPMiddleware as Stock

    responses = []
    for middleware_class in (Stock, jeto_csp.CSPMiddleware):
        request = rf.get(path)
        response = HttpResponse("ok")
        for name, value in attrs.items():
            setattr(response, name, value)
        middleware = middleware_class(lambda r, response=response: response)
        middleware.process_request(request)
        responses.append(middleware.process_response(request, response))
    return tuple(responses)


def test_site_policy_is_the_same_header_django_csp_sends(rf):
    stock, ours = _csp_response(rf)
    assert ours["Content-Security-Policy"] == stock["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in ours["Content-Security-Policy"]


def test_per_response_policies_and_exemptions_are_django_csps(rf):
    stock, ours = _csp_response(rf, _csp_update={"img-src": ["https://cdn.example"]})
    assert ours["Content-Security-Policy"] == stock["Content-Security-Policy"]
    assert "https://cdn.example" in ours["Content-Security-Policy"]
    stock, ours = _csp_response(rf, _csp_exempt=True)
    assert "Content-Security-Policy" not in ours and "Content-Security-Policy" not in stock


@override_settings(CONTENT_SECURITY_POLICY={"DIRECTIVES": {"script-src": ["'self'", NONCE]}})
def test_a_nonce_used_by_the_page_is_in_its_header(rf):
    middleware = jeto_csp.CSPMiddleware(lambda r: HttpResponse("ok"))
    request = rf.get("/")
    middleware.process_request(request)
    nonce = str(request.csp_nonce)
    response = middleware.process_response(request, HttpResponse("ok"))
    assert f"script-src 'self' 'nonce-{nonce}'" in response["Content-Security-Policy"]
    unused = rf.get("/")
    middleware.process_request(unused)
    assert "nonce-" not in middleware.process_response(unused, HttpResponse("ok"))["Content-Security-Policy"]


def test_changed_settings_rebuild_the_policy(rf):
    jeto_csp._site_policy(False)  # cached
    with override_settings(CONTENT_SECURITY_POLICY={"DIRECTIVES": {"default-src": ["'none'"]}}):
        _, ours = _csp_response(rf)
        assert ours["Content-Security-Policy"] == "default-src 'none'"
    _, ours = _csp_response(rf)
    assert "frame-ancestors 'none'" in ours["Content-Security-Policy"]


def test_excluded_prefixes_are_honoured(rf):
    policy = {"EXCLUDE_URL_PREFIXES": ["/plain/"], "DIRECTIVES": {"default-src": ["'self'"]}}
    with override_settings(CONTENT_SECURITY_POLICY=policy):
        stock, ours = _csp_response(rf, "/plain/page")
        assert "Content-Security-Policy" not in ours and "Content-Security-Policy" not in stock
        _, ours = _csp_response(rf, "/other/")
        assert ours["Content-Security-Policy"] == "default-src 'self'"


# -- the precompiled client lookup -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_exact_lookup_returns_the_instance_the_orm_returns(acme_conn):
    lookup = ExactLookup(OAuthClient, "client_id")
    fast = lookup.get(acme_conn.client_id)
    slow = OAuthClient.objects.get(client_id=acme_conn.client_id)
    fields = [f.attname for f in OAuthClient._meta.concrete_fields]
    assert {f: getattr(fast, f) for f in fields} == {f: getattr(slow, f) for f in fields}
    assert fast._state.adding is False and fast._state.db == "default"
    assert fast.organization.slug == "acme"
    assert lookup.get("no-such-client") is None


@pytest.mark.django_db
def test_exact_lookup_saves_what_it_loaded(acme_conn):
    client = ExactLookup(OAuthClient, "client_id").get(acme_conn.client_id)
    client.name = "Renamed"
    client.save(update_fields=["name"])
    assert OAuthClient.objects.get(pk=client.pk).name == "Renamed"


# -- the organisation endpoint answers from the token cache ------------------------------------------------------


@pytest.mark.django_db
def test_organisation_endpoint_needs_no_query_while_the_token_is_cached(client, acme_conn):
    token = get_token(client, acme_conn)
    assert api(client, "organization", token).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        response = api(client, "organization", token)
    assert response.status_code == 200 and response.json()["name"] == "Acme"
    assert [q["sql"] for q in queries.captured_queries] == []


@pytest.mark.django_db
def test_organisation_changes_show_within_the_cache_bound(client, acme_conn, acme, monkeypatch):
    token = get_token(client, acme_conn)
    assert api(client, "organization", token).json()["name"] == "Acme"
    Organization.objects.filter(pk=acme.pk).update(name="Acme Corp", mfa_required=True)
    real = time.monotonic
    monkeypatch.setattr(bearer.time, "monotonic", lambda: real() + 1.01)
    body = api(client, "organization", token).json()
    assert body["name"] == "Acme Corp" and body["mfa_required"] is True


@pytest.mark.django_db
def test_organisation_deleted_refuses_its_tokens(client, acme_conn, acme):
    token = get_token(client, acme_conn)
    assert api(client, "organization", token).status_code == 200
    acme.delete()  # cascades to the client and its tokens; this process forgets them at once
    assert not get_access_token_model().objects.exists()
    assert api(client, "organization", token).status_code == 401


# -- the precompiled token INSERT --------------------------------------------------------------------------------


def _columns(row) -> dict:
    skip = {"id", "token", "token_checksum", "created", "updated", "expires"}
    return {f.attname: getattr(row, f.attname) for f in row._meta.concrete_fields if f.attname not in skip}


@pytest.mark.django_db
def test_granted_token_row_is_the_row_dots_own_code_writes(client, acme_conn):
    from django.utils import timezone
    from oauth2_provider.oauth2_validators import OAuth2Validator
    from oauthlib.common import Request

    AccessToken = get_access_token_model()
    body = request_token(client, acme_conn.client_id, acme_conn.client_secret).json()
    fast = AccessToken.objects.get(token_checksum=bearer.checksum(body["access_token"]))

    request = Request("https://id.example/o/token/")
    request.grant_type, request.user, request.client = "client_credentials", None, acme_conn.client
    token = {"access_token": generate_token(request), "scope": fast.scope}
    stock = OAuth2Validator()._create_access_token(timezone.now() + timedelta(hours=1), request, token)
    stock = AccessToken.objects.get(pk=stock.pk)
    assert _columns(fast) == _columns(stock)
    assert fast.created is not None and fast.updated is not None and fast.expires > timezone.now()


@pytest.mark.django_db
def test_fast_insert_behaves_like_save(acme_conn):
    from django.db.models.signals import post_save, pre_save
    from django.utils import timezone

    from jeto_identity.db.insert import FastInsert

    AccessToken = get_access_token_model()
    seen = []
    pre = lambda sender, instance, **kw: seen.append(("pre", instance.pk, kw["raw"]))  # noqa: E731
    post = lambda sender, instance, **kw: seen.append(("post", instance.pk, kw["created"]))  # noqa: E731
    pre_save.connect(pre, sender=AccessToken, dispatch_uid="t-pre")
    post_save.connect(post, sender=AccessToken, dispatch_uid="t-post")
    try:
        later = timezone.now() + timedelta(hours=1)
        row = AccessToken(application=acme_conn.client, scope="org:read", expires=later, token="abc")
        FastInsert(AccessToken).save(row)
    finally:
        pre_save.disconnect(sender=AccessToken, dispatch_uid="t-pre")
        post_save.disconnect(sender=AccessToken, dispatch_uid="t-post")
    assert row.pk is not None and row._state.adding is False and row._state.db == "default"
    assert seen == [("pre", None, False), ("post", row.pk, True)]
    stored = AccessToken.objects.get(pk=row.pk)
    assert stored.token_checksum == bearer.checksum("abc") and stored.created is not None
    assert bearer.authenticate("abc") is not None  # found by checksum, like any token

    unsaved = OAuthClient(name="never saved")
    with pytest.raises(ValueError, match="unsaved related object"):
        FastInsert(AccessToken).save(AccessToken(application=unsaved, scope="x", expires=timezone.now(), token="d"))


@pytest.mark.django_db
def test_fast_insert_hands_existing_rows_to_save(acme_conn):
    from django.utils import timezone

    from jeto_identity.db.insert import FastInsert

    AccessToken = get_access_token_model()
    row = AccessToken.objects.create(application=acme_conn.client, scope="org:read", expires=timezone.now(), token="e")
    row.scope = "members:read"
    FastInsert(AccessToken).save(row)  # not new: an UPDATE through save()
    assert AccessToken.objects.get(pk=row.pk).scope == "members:read" and AccessToken.objects.count() == 1


# -- the MFA policy middleware leaves cookie-less requests' user unloaded -----------------------------------------


@pytest.mark.django_db
def test_bearer_calls_never_load_a_session_user(client, acme_conn):
    token = get_token(client, acme_conn)
    with mock.patch("django.contrib.auth.middleware.auth.get_user") as get_user:
        assert api(client, "organization", token).status_code == 200
        assert request_token(client, acme_conn.client_id, acme_conn.client_secret).status_code == 200
    assert get_user.call_count == 0


@pytest.mark.django_db
def test_a_session_cookie_still_gets_the_policy(client, acme, acme_member):
    from jeto_identity.mfa.middleware import _certainly_anonymous

    acme.mfa_required = True
    acme.save()
    client.force_login(acme_member)
    response = client.get("/account/")
    assert response.status_code == 302 and "/mfa/" in response["Location"]  # sent to enrolment

    request = RequestFactory().get("/")
    assert _certainly_anonymous(request, SimpleLazyObject(lambda: None))
    request.COOKIES["sessionid"] = "x"
    assert not _certainly_anonymous(request, SimpleLazyObject(lambda: None))
    loaded = SimpleLazyObject(lambda: acme_member)
    _ = loaded.pk
    assert not _certainly_anonymous(RequestFactory().get("/"), loaded)


@pytest.mark.django_db(transaction=True)
def test_precompiled_paths_from_several_threads(acme_conn):
    """Each thread has its own connection, so each gets its own compiled plan (converters hold a connection)."""
    require_postgresql("threads writing at once (SQLite locks the whole database)")
    from django.db import connections as all_connections
    from django.utils import timezone

    from jeto_identity.db.insert import FastInsert

    lookup, insert, AccessToken = ExactLookup(OAuthClient, "client_id"), None, get_access_token_model()
    insert = FastInsert(AccessToken)
    results, errors = [], []

    def work(n: int) -> None:
        try:
            client = lookup.get(acme_conn.client_id)
            row = AccessToken(application=client, scope="org:read", expires=timezone.now(), token=f"thread-{n}")
            insert.save(row)
            results.append((client.pk, row.pk))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            all_connections.close_all()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert {client_pk for client_pk, _ in results} == {acme_conn.client.pk}
    assert AccessToken.objects.filter(token__startswith="thread-").count() == 4


# -- client-credentials tokens commit without waiting for the WAL flush (PostgreSQL) ------------------------------


@pytest.mark.django_db(transaction=True)
def test_granted_token_is_inserted_with_an_asynchronous_commit(client, acme_conn):
    require_postgresql()
    with CaptureQueriesContext(connection) as queries:
        body = request_token(client, acme_conn.client_id, acme_conn.client_secret).json()
    inserts = [q["sql"] for q in queries.captured_queries if "INSERT INTO" in q["sql"]]
    assert len(inserts) == 1 and inserts[0].startswith("SET LOCAL synchronous_commit TO OFF; INSERT INTO")
    with connection.cursor() as cursor:  # the setting ended with the token's own transaction
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
    assert api(client, "organization", body["access_token"]).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_asynchronous_commit_never_leaks_into_an_enclosing_transaction(acme_conn, settings):
    require_postgresql()
    from django.db import transaction
    from django.utils import timezone

    from jeto_identity.db.insert import FastInsert

    AccessToken = get_access_token_model()
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        row = AccessToken(application=acme_conn.client, scope="org:read", expires=timezone.now(), token="in-tx")
        FastInsert(AccessToken).save(row, asynchronous_commit=True)
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == "on"
    assert not any("synchronous_commit TO OFF" in q["sql"] for q in queries.captured_queries)
    assert AccessToken.objects.filter(pk=row.pk).exists()

    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "API_TOKEN_ASYNC_COMMIT": False}
    with CaptureQueriesContext(connection) as queries:
        assert request_token(DjangoClient(), acme_conn.client_id, acme_conn.client_secret).status_code == 200
    assert not any("synchronous_commit" in q["sql"] for q in queries.captured_queries)
