"""The opt-in fast paths (jeto_identity.contrib.fastpaths): each behaves as the library part it replaces.

Every piece leans on a library's private internals, so each is compared here with the stock part it speeds up:
a library upgrade that changes what a piece leans on fails one of these tests. The fast paths are switched on
for every test in this file, whatever JETO_FASTPATHS says; the last tests run the key flows with them off.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path
from unittest import mock
from urllib.parse import urlsplit

import pytest
from axes.handlers.cache import AxesCacheHandler
from axes.handlers.proxy import AxesProxyHandler
from csp.constants import NONCE
from django.core.cache.backends import redis as django_redis
from django.db import connection
from django.http import HttpResponse
from django.test import Client as DjangoClient
from django.test import RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from oauth2_provider.models import get_access_token_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.signals import app_authorized
from oauth2_provider.views import TokenView as DOTTokenView
from oauthlib.common import Request

from jeto_identity.contrib.fastpaths import csp as fast_csp
from jeto_identity.contrib.fastpaths.cache import RedisCache
from jeto_identity.contrib.fastpaths.insert import FastInsert
from jeto_identity.contrib.fastpaths.lookup import ExactLookup
from jeto_identity.contrib.fastpaths.throttle import CacheHandler
from jeto_identity.contrib.fastpaths.validators import FastPathsOAuth2Validator
from jeto_identity.contrib.fastpaths.views import TokenView as FastTokenView
from jeto_identity.models import OAuthClient
from jeto_identity.provider.tokens import generate_token
from jeto_identity.provider.views import TokenView as ProviderTokenView
from jeto_identity.throttle import services as throttle
from tests.api_clients_support import api, request_token, token_checksum
from tests.identity.oidc_support import assert_client_authentication_challenges, register_rp
from tests.requirements import require_postgresql, require_redis

ROOT = Path(__file__).resolve().parents[2]
FAST_VALIDATOR = "jeto_identity.contrib.fastpaths.validators.FastPathsOAuth2Validator"
FAST_HANDLER = "jeto_identity.contrib.fastpaths.throttle.CacheHandler"


def _forget_oauthlib_cores() -> None:
    """DOT keeps each token view's oauthlib server (and validator) from its first request: build them again."""
    for view in (FastTokenView, ProviderTokenView):
        if "_oauthlib_core" in view.__dict__:
            del view._oauthlib_core


@pytest.fixture(autouse=True)
def fastpaths(settings):
    """The validator, token endpoint and axes handler of the fast paths (the rest is built by each test)."""
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OAUTH2_VALIDATOR_CLASS": FAST_VALIDATOR}
    settings.ROOT_URLCONF = "tests.identity.fastpaths_urls"
    settings.AXES_HANDLER = FAST_HANDLER
    AxesProxyHandler.get_implementation(force=True)
    _forget_oauthlib_cores()
    yield
    AxesProxyHandler.implementation = None  # reloaded from the restored settings on next use
    _forget_oauthlib_cores()


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


def test_redis_cache_client_is_the_one_django_builds():
    cache = RedisCache("redis://127.0.0.1:1/0", {"OPTIONS": {"socket_timeout": 2}})
    ours = cache._cache.get_client("k")
    stock = django_redis.RedisCacheClient.get_client(cache._cache, "k")  # Django's own, on the same pools
    assert stock is not ours and type(stock) is type(ours)
    assert stock.connection_pool is ours.connection_pool
    assert isinstance(django_redis.RedisCache("redis://127.0.0.1:1/0", {})._cache, django_redis.RedisCacheClient)


def test_redis_cache_round_trip_on_a_real_server():
    url = require_redis()
    cache = RedisCache(url, {"KEY_PREFIX": "jeto-test-fastpaths"})
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
def test_handler_counts_what_axes_own_handler_counts(rf: RequestFactory):
    for address, key, failures in (("192.0.2.20", "a", 2), ("192.0.2.21", "a", 1), ("192.0.2.20", "b", 4)):
        for _ in range(failures):
            throttle.failed(rf.post("/o/token/", REMOTE_ADDR=address), throttle.CLIENT_SECRET, key)
    for address in ("192.0.2.20", "192.0.2.21", "192.0.2.22"):
        for key in ("a", "b", "c"):
            credentials = {"email": f"client:{key}"}
            request = rf.post("/o/token/", REMOTE_ADDR=address)
            assert CacheHandler().get_failures(request, credentials) == AxesCacheHandler().get_failures(
                request, credentials
            ), (address, key)


@pytest.mark.django_db
def test_success_resets_a_counted_key_and_skips_the_cache_when_there_was_none(rf: RequestFactory):
    clean = rf.post("/o/token/", REMOTE_ADDR="192.0.2.9")
    throttle.check(clean, throttle.CLIENT_SECRET, "quiet-client")
    with mock.patch.object(throttle, "clear") as clear:
        throttle.succeeded(clean, throttle.CLIENT_SECRET, "quiet-client")
    assert clear.call_count == 0

    failing = rf.post("/o/token/", REMOTE_ADDR="192.0.2.9")
    throttle.failed(failing, throttle.CLIENT_SECRET, "busy-client")
    later = rf.post("/o/token/", REMOTE_ADDR="192.0.2.9")
    throttle.check(later, throttle.CLIENT_SECRET, "busy-client")
    throttle.succeeded(later, throttle.CLIENT_SECRET, "busy-client")
    fresh = rf.post("/o/token/", REMOTE_ADDR="192.0.2.10")
    throttle.check(fresh, throttle.CLIENT_SECRET, "busy-client")
    assert max(fresh.jeto_throttle_counts.values()) == 0  # the key's counter was reset


# -- CSP: the settings' policy built once, per-response policies untouched ---------------------------------------


def _csp_response(rf: RequestFactory, path: str = "/", **attrs) -> tuple:
    from csp.middleware import CSPMiddleware as Stock

    responses = []
    for middleware_class in (Stock, fast_csp.CSPMiddleware):
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
    for attrs in (
        {"_csp_update": {"img-src": ["https://cdn.example"]}},
        {"_csp_replace": {"img-src": ["https://cdn.example"]}},
        {"_csp_config": {"default-src": ["'none'"]}},
    ):
        stock, ours = _csp_response(rf, **attrs)
        assert ours["Content-Security-Policy"] == stock["Content-Security-Policy"], attrs
    stock, ours = _csp_response(rf, _csp_exempt=True)
    assert "Content-Security-Policy" not in ours and "Content-Security-Policy" not in stock


def test_the_decorators_set_the_attributes_the_fast_path_looks_for():
    from csp import decorators

    view = lambda request: HttpResponse("ok")  # noqa: E731
    request = RequestFactory().get("/")
    for decorate in (
        decorators.csp_update({"img-src": ["https://cdn.example"]}),
        decorators.csp_replace({"img-src": ["https://cdn.example"]}),
        decorators.csp({"default-src": ["'none'"]}),
        decorators.csp_update({"img-src": ["https://cdn.example"]}, REPORT_ONLY=True),
    ):
        response = decorate(view)(request)
        assert any(hasattr(response, name) for name in fast_csp._PER_RESPONSE), decorate
    assert decorators.csp_exempt()(view)(request)._csp_exempt is True


@override_settings(CONTENT_SECURITY_POLICY={"DIRECTIVES": {"script-src": ["'self'", NONCE]}})
def test_a_nonce_used_by_the_page_is_in_its_header(rf):
    middleware = fast_csp.CSPMiddleware(lambda r: HttpResponse("ok"))
    request = rf.get("/")
    middleware.process_request(request)
    nonce = str(request.csp_nonce)
    response = middleware.process_response(request, HttpResponse("ok"))
    assert f"script-src 'self' 'nonce-{nonce}'" in response["Content-Security-Policy"]
    unused = rf.get("/")
    middleware.process_request(unused)
    assert "nonce-" not in middleware.process_response(unused, HttpResponse("ok"))["Content-Security-Policy"]


def test_changed_settings_rebuild_the_policy(rf):
    fast_csp._site_policy(False)  # cached
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


def _fields(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


@pytest.mark.django_db
def test_exact_lookup_returns_the_instance_the_orm_returns(acme_conn):
    lookup = ExactLookup(OAuthClient, "client_id")
    fast = lookup.get(acme_conn.client_id)
    assert _fields(fast) == _fields(OAuthClient.objects.get(client_id=acme_conn.client_id))
    assert fast._state.adding is False and fast._state.db == "default"
    assert fast.organization.slug == "acme"
    assert lookup.get("no-such-client") is None


@pytest.mark.django_db
def test_exact_lookup_saves_what_it_loaded(acme_conn):
    client = ExactLookup(OAuthClient, "client_id").get(acme_conn.client_id)
    client.name = "Renamed"
    client.save(update_fields=["name"])
    assert OAuthClient.objects.get(pk=client.pk).name == "Renamed"


def _oauthlib_request(grant_type: str = "client_credentials") -> Request:
    request = Request("https://id.example/o/token/", http_method="POST")
    request.grant_type, request.client = grant_type, None
    return request


@pytest.mark.django_db
def test_validator_loads_the_client_dots_validator_loads(acme_conn):
    fast = FastPathsOAuth2Validator()._load_application(acme_conn.client_id, _oauthlib_request())
    stock = OAuth2Validator()._load_application(acme_conn.client_id, _oauthlib_request())
    assert _fields(fast) == _fields(stock)
    for validator in (FastPathsOAuth2Validator(), OAuth2Validator()):
        assert validator._load_application("no-such-client", _oauthlib_request()) is None
    OAuthClient.objects.filter(pk=acme_conn.client.pk).update(enabled=False)
    assert FastPathsOAuth2Validator()._load_application(acme_conn.client_id, _oauthlib_request()) is None


# -- the precompiled token INSERT --------------------------------------------------------------------------------


def _columns(row) -> dict:
    skip = {"id", "token", "token_checksum", "created", "updated", "expires"}
    return {f.attname: getattr(row, f.attname) for f in row._meta.concrete_fields if f.attname not in skip}


@pytest.mark.django_db
def test_granted_token_row_is_the_row_dots_own_code_writes(client, acme_conn):
    from django.utils import timezone

    AccessToken = get_access_token_model()
    body = request_token(client, acme_conn.client_id, acme_conn.client_secret).json()
    fast = AccessToken.objects.get(token_checksum=token_checksum(body["access_token"]))

    request = _oauthlib_request()
    request.user, request.client = None, acme_conn.client
    token = {"access_token": generate_token(request), "scope": fast.scope}
    stock = OAuth2Validator()._create_access_token(timezone.now() + timedelta(hours=1), request, token)
    stock = AccessToken.objects.get(pk=stock.pk)
    assert _columns(fast) == _columns(stock)
    assert fast.created is not None and fast.updated is not None and fast.expires > timezone.now()


@pytest.mark.django_db
def test_a_grant_writes_one_row_outside_dots_transaction(client, acme_conn):
    with CaptureQueriesContext(connection) as queries:
        assert request_token(client, acme_conn.client_id, acme_conn.client_secret).status_code == 200
    statements = [q["sql"].upper() for q in queries.captured_queries]
    assert sum("INSERT INTO" in s for s in statements) == 1
    assert not any(s.startswith("SAVEPOINT") for s in statements)  # DOT's save_bearer_token opens atomic()


@pytest.mark.django_db
def test_fast_insert_behaves_like_save(acme_conn):
    from django.db.models.signals import post_save, pre_save
    from django.utils import timezone

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
    assert stored.token_checksum == token_checksum("abc") and stored.created is not None  # found like any token

    unsaved = OAuthClient(name="never saved")
    with pytest.raises(ValueError, match="unsaved related object"):
        FastInsert(AccessToken).save(AccessToken(application=unsaved, scope="x", expires=timezone.now(), token="d"))


@pytest.mark.django_db
def test_fast_insert_hands_existing_rows_to_save(acme_conn):
    from django.utils import timezone

    AccessToken = get_access_token_model()
    row = AccessToken.objects.create(application=acme_conn.client, scope="org:read", expires=timezone.now(), token="e")
    row.scope = "members:read"
    FastInsert(AccessToken).save(row)  # not new: an UPDATE through save()
    assert AccessToken.objects.get(pk=row.pk).scope == "members:read" and AccessToken.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_precompiled_paths_from_several_threads(acme_conn):
    """Each thread has its own connection, so each gets its own compiled plan (converters hold a connection)."""
    require_postgresql("threads writing at once (SQLite locks the whole database)")
    from django.db import connections as all_connections
    from django.utils import timezone

    lookup, AccessToken = ExactLookup(OAuthClient, "client_id"), get_access_token_model()
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


# -- the token endpoint sends app_authorized with the token in hand ----------------------------------------------


@pytest.fixture
def authorized_tokens():
    sent = []
    receiver = lambda sender, request, token, **kw: sent.append(token)  # noqa: E731
    app_authorized.connect(receiver, dispatch_uid="test-fastpaths-authorized")
    yield sent
    app_authorized.disconnect(dispatch_uid="test-fastpaths-authorized")


@pytest.mark.django_db
def test_token_endpoint_sends_the_issued_token_without_reading_it_back(client, acme_conn, authorized_tokens):
    with CaptureQueriesContext(connection) as queries:
        body = request_token(client, acme_conn.client_id, acme_conn.client_secret).json()
    row = get_access_token_model().objects.get(token_checksum=token_checksum(body["access_token"]))
    assert [token.pk for token in authorized_tokens] == [row.pk]
    assert not any("SELECT" in q["sql"] and "token_checksum" in q["sql"] for q in queries.captured_queries)


@pytest.mark.django_db
def test_with_another_validator_the_token_is_read_back_as_dot_does(client, acme_conn, authorized_tokens, settings):
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "OAUTH2_VALIDATOR_CLASS": "jeto_identity.provider.validators.JetoOAuth2Validator",
    }
    _forget_oauthlib_cores()
    body = request_token(client, acme_conn.client_id, acme_conn.client_secret).json()
    assert type(FastTokenView.get_oauthlib_core().server.request_validator).__name__ == "JetoOAuth2Validator"
    row = get_access_token_model().objects.get(token_checksum=token_checksum(body["access_token"]))
    assert [token.pk for token in authorized_tokens] == [row.pk]


@pytest.mark.django_db
def test_the_fast_token_view_challenges_a_wrong_secret_with_the_scheme_the_client_used(rf):
    registration = register_rp("Fast paths RP")
    assert_client_authentication_challenges(FastTokenView, rf, registration.client.client_id)


def test_dots_token_view_still_answers_grants_through_the_method_we_replace(rf):
    with mock.patch.object(
        DOTTokenView, "authorization_flow_token_response", return_value=HttpResponse("ok"), autospec=True
    ) as replaced:
        DOTTokenView().post(rf.post("/o/token/", {"grant_type": "client_credentials"}))
    assert replaced.call_count == 1


# -- nothing else imports the package; the key flows pass with it off ---------------------------------------------


def _imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_other_module_of_the_app_imports_the_fast_paths():
    package = ROOT / "jeto_identity"
    offenders = [
        str(path.relative_to(ROOT))
        for path in package.rglob("*.py")
        if "contrib" not in path.relative_to(package).parts
        and any(name.startswith("jeto_identity.contrib") for name in _imported_modules(path))
    ]
    assert offenders == []


def _settings_with(**env) -> dict:
    code = (
        "import json, config.settings as s; print(json.dumps({'middleware': s.MIDDLEWARE, 'axes': s.AXES_HANDLER,"
        " 'validator': s.OAUTH2_PROVIDER['OAUTH2_VALIDATOR_CLASS'], 'cache': s.CACHES['default']['BACKEND'],"
        " 'sessions': getattr(s, 'SESSION_ENGINE', 'django.contrib.sessions.backends.db')}))"
    )
    keep = {k: v for k, v in os.environ.items() if k not in {"JETO_FASTPATHS", "REDIS_URL"}}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**keep, "SECRET_KEY": "x" * 50, "REDIS_URL": "redis://127.0.0.1:1/0", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    import json

    return json.loads(result.stdout)


def test_portal_switches_every_fast_path_with_one_variable():
    on, off = _settings_with(), _settings_with(JETO_FASTPATHS="false")
    assert on == {
        "middleware": [m.replace("csp.middleware.", "jeto_identity.contrib.fastpaths.csp.") for m in off["middleware"]],
        "axes": FAST_HANDLER,
        "validator": FAST_VALIDATOR,
        "cache": "jeto_identity.contrib.fastpaths.cache.RedisCache",
        "sessions": "jeto_identity.contrib.fastpaths.sessions",
    }
    assert off["sessions"] == "django.contrib.sessions.backends.db"
    assert off["axes"] == "axes.handlers.cache.AxesCacheHandler"
    assert off["validator"] == "jeto_identity.provider.validators.JetoOAuth2Validator"
    assert off["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert "csp.middleware.CSPMiddleware" in off["middleware"]


KEY_FLOWS = [
    "tests/identity/test_api_clients_grant.py",
    "tests/identity/test_api_clients_validator.py",
    "tests/identity/test_bruteforce_token.py",
    "tests/identity/test_oidc_token.py",
    "tests/identity/test_hot_paths.py",
    "tests/portal/test_api_endpoints.py",
    "tests/portal/test_api_revocation.py",
    "tests/portal/test_api_token_cache.py",
    "tests/portal/test_security_headers.py",
]


@pytest.mark.slow
def test_key_token_and_api_flows_pass_with_the_fast_paths_off():
    """The token endpoint (client credentials and the code flow), throttling, the Jeto API and the security
    headers, in a pytest run with JETO_FASTPATHS=false that never loads a module of the package."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["JETO_FASTPATHS"] = "false"
    database_url = env.get("DATABASE_URL", "")
    if database_url.startswith("postgres"):  # its own test database beside this run's
        parts = urlsplit(database_url)
        env["DATABASE_URL"] = parts._replace(path=parts.path.rstrip("/") + "_nofastpaths").geturl()
    code = (
        "import sys, pytest\n"
        f"code = pytest.main(['-q', '-p', 'no:cacheprovider', '-x', *{KEY_FLOWS!r}])\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('jeto_identity.contrib'))\n"
        "print('FASTPATH MODULES LOADED:', loaded)\n"
        "sys.exit(int(code) or (3 if loaded else 0))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "FASTPATH MODULES LOADED: []" in result.stdout
