"""Behaviour under failure: database or Redis down gives a clear 503 (no stack trace), service resumes by itself,
and nothing is half-written."""

from __future__ import annotations

from unittest import mock
from urllib.parse import urlsplit

import pytest
import requests
from axes.handlers.proxy import AxesProxyHandler
from django.db.utils import OperationalError
from django.test import Client, RequestFactory

from jeto_identity.core.errors import server_error
from jeto_identity.models import Invitation, User
from tests.conftest import sign_in
from tests.portal import servers

LEAKS = ("Traceback", "OperationalError", "psycopg", 'File "', "connection refused", "Connection refused")


def _assert_clean_503(response_status: int, body: str, headers) -> None:
    assert response_status == 503
    assert "try again" in body.lower()
    assert not any(leak in body for leak in LEAKS), body
    assert int(headers["Retry-After"]) > 0


# -- in-process ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_database_error_in_a_view_is_a_503_page(acme_member):
    client = Client(raise_request_exception=False)
    broken = OperationalError("server closed the connection")
    with mock.patch("jeto_identity.login.services.begin", side_effect=broken):
        response = client.post("/login/", {"email": acme_member.email})
    _assert_clean_503(response.status_code, response.content.decode(), response)


@pytest.mark.django_db
def test_token_and_api_paths_get_a_json_503():
    client = Client(raise_request_exception=False)
    with mock.patch("jeto_identity.login.views.EmailStepView.get", side_effect=OperationalError("down")):
        response = client.get("/login/", HTTP_ACCEPT="application/json")
    assert response.status_code == 503 and response.json()["error"] == "temporarily_unavailable"
    # No Accept header: the provider's endpoints (the app's rule) and the Jeto API (the portal's) answer JSON anyway.
    with mock.patch("jeto_identity.throttle.services.check", side_effect=OperationalError("down")):
        response = client.post("/o/token/", {"grant_type": "client_credentials"})
    assert response.status_code == 503 and response.json()["error"] == "temporarily_unavailable"
    with mock.patch("jeto_portal.api.bearer.authenticate", side_effect=OperationalError("down")):
        response = client.get("/api/v1/organization", HTTP_AUTHORIZATION="Bearer abc")
    assert response.status_code == 503 and response.json()["error"] == "temporarily_unavailable"
    with mock.patch("jeto_identity.login.views.EmailStepView.get", side_effect=OperationalError("down")):
        page = client.get("/login/")
    assert page.status_code == 503 and "application/json" not in page["Content-Type"]  # a page for browsers


def test_outage_outside_a_view_is_also_a_503():
    request = RequestFactory().get("/login/")
    try:
        raise OperationalError("could not connect to server")
    except OperationalError:
        response = server_error(request)
    _assert_clean_503(response.status_code, response.content.decode(), response)


def test_other_errors_are_a_plain_500_page():
    try:
        raise ValueError("secret detail")
    except ValueError:
        response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert "secret detail" not in response.content.decode() and "Traceback" not in response.content.decode()


@pytest.mark.django_db
def test_redis_down_fails_closed_with_a_503_on_the_password_step(settings, acme_member, password):
    port = servers.free_port()  # nothing listens there
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    AxesProxyHandler.get_implementation(force=True)
    try:
        client = Client(raise_request_exception=False)
        response = sign_in(client, acme_member.email, password)
        _assert_clean_503(response.status_code, response.content.decode(), response)
        assert "_auth_user_id" not in client.session  # fail closed: not signed in without the throttle
    finally:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
        AxesProxyHandler.get_implementation(force=True)


@pytest.mark.django_db
def test_admin_add_user_is_all_or_nothing(acme_admin, acme, password):
    client = Client(raise_request_exception=False)
    sign_in(client, acme_admin.email, password)
    lost = OperationalError("lost")
    # The connection drops while the invitation's audit event is written: no invitation without its audit event.
    with mock.patch("jeto_identity.orgadmin.invitations.audit.record", side_effect=lost):
        response = client.post(
            "/admin/jeto_identity/user/add/",
            {"email": "half@acme.test", "organization": str(acme.pk), "role": "member"},
        )
    assert response.status_code == 503
    assert not Invitation.objects.filter(email="half@acme.test").exists()
    assert not User.objects.filter(email="half@acme.test").exists()


# -- real server processes -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_server_with_unreachable_database_answers_503_not_500():
    closed = servers.free_port()
    env = {"DATABASE_URL": f"postgres://postgres@127.0.0.1:{closed}/jeto_missing", "REDIS_URL": ""}
    with servers.servers(1, env) as (node,):
        # A returning browser (session cookie) needs the database on every page.
        for path in ("/login/", "/account/", "/admin/"):
            response = requests.get(node.url + path, timeout=15, allow_redirects=False, cookies={"sessionid": "x" * 32})
            _assert_clean_503(response.status_code, response.text, response.headers)
        # A fresh visitor's sign-in page needs nothing from it yet, and still renders.
        assert requests.get(node.url + "/login/", timeout=15).status_code == 200


@pytest.mark.slow
def test_service_resumes_by_itself_when_the_database_is_back():
    database_url, redis_url = servers.require_postgres_and_redis()
    with servers.scratch_postgres(database_url, "failover") as url:
        servers.manage(
            "shell",
            "-c",
            "from jeto_identity.models import User\n"
            "User.objects.create_user('ops@example.test', 'a-long-passphrase-1')",
            env={"DATABASE_URL": url},
        )
        parts = urlsplit(url)
        relay = servers.TcpRelay(parts.hostname or "127.0.0.1", parts.port or 5432)
        relay.start()
        via_relay = parts._replace(netloc=f"{parts.username or 'postgres'}@127.0.0.1:{relay.port}").geturl()
        if parts.password:
            via_relay = parts._replace(netloc=f"{parts.username}:{parts.password}@127.0.0.1:{relay.port}").geturl()
        try:
            with servers.servers(1, {"DATABASE_URL": via_relay, "REDIS_URL": redis_url}) as (node,):
                browser = requests.Session()
                _sign_in(browser, node.url, "ops@example.test", "a-long-passphrase-1")
                assert browser.get(node.url + "/account/", timeout=10).status_code == 200

                relay.cut()
                down = browser.get(node.url + "/account/", timeout=15, allow_redirects=False)
                _assert_clean_503(down.status_code, down.text, down.headers)

                relay.restore()
                back = browser.get(node.url + "/account/", timeout=15, allow_redirects=False)
                assert back.status_code == 200 and "ops@example.test" in back.text  # still signed in
        finally:
            relay.cut()


def _sign_in(browser: requests.Session, base: str, email: str, password: str) -> requests.Response:
    import re

    page = browser.get(base + "/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    browser.post(
        base + "/login/", {"email": email, "csrfmiddlewaretoken": token}, timeout=10, headers={"Referer": base}
    )
    page = browser.get(base + "/login/password/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    return browser.post(
        base + "/login/password/",
        {"password": password, "csrfmiddlewaretoken": token},
        timeout=20,
        headers={"Referer": base},
        allow_redirects=False,
    )
