"""Regressions for defects found in the security review: each test failed before its fix."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client

from jeto_identity.sso import http as sso_http
from jeto_identity.sso.oidc import backend as sso_backend
from tests.identity.mfa_support import code_for_key, secret_from_page
from tests.sso_support import make_connection, sso_sign_in

pytestmark = pytest.mark.django_db


def test_planted_session_key_is_useless_after_the_password(acme, acme_member, password):
    """Session fixation: the key rotates after the first factor, not only after the last one."""
    acme.mfa_required = True
    acme.save()
    attacker = Client()
    attacker.post("/login/", {"email": "attacker@example.test"})
    planted = attacker.cookies[settings.SESSION_COOKIE_NAME].value
    victim = Client()
    victim.cookies[settings.SESSION_COOKIE_NAME] = planted
    victim.post("/login/", {"email": "max@acme.test"})
    assert victim.post("/login/password/", {"password": password}).url == "/login/mfa/setup/"
    assert victim.cookies[settings.SESSION_COOKIE_NAME].value != planted
    page = attacker.get("/login/mfa/setup/")
    assert page.status_code == 302  # the attacker's session holds no pending sign-in of the victim
    victim_page = victim.get("/login/mfa/setup/").content.decode()
    attacker.post("/login/mfa/setup/", {"code": code_for_key(secret_from_page(victim_page))})
    assert attacker.session.get(SESSION_KEY) is None


@pytest.mark.usefixtures("sso_env")
def test_mfa_after_sso_without_org_mfa_enrols_instead_of_looping(client, acme, idp):
    acme.mfa_after_sso = True
    acme.save()
    make_connection(acme, idp.url)
    idp.put_user("sub-new", email="newbie@acme.test", email_verified=True)
    response = sso_sign_in(client, idp, "newbie@acme.test", "sub-new")
    assert response.url == "/login/mfa/setup/"
    page = client.get(response.url)
    assert page.status_code == 200  # the enrolment page, not a redirect to itself
    code = code_for_key(secret_from_page(page.content.decode()))
    done = client.post("/login/mfa/setup/", {"code": code})
    assert done.status_code == 302
    assert client.session.get(SESSION_KEY)


@pytest.mark.usefixtures("sso_env")
def test_forged_error_callback_does_not_sign_anyone_out(client, acme, acme_member, idp):
    connection = make_connection(acme, idp.url)
    client.force_login(acme_member)
    response = client.get(f"/sso/{connection.public_id}/callback/?error=access_denied")
    assert response.status_code == 400
    assert client.session.get(SESSION_KEY) == str(acme_member.pk)


class _Recorder(BaseHTTPRequestHandler):
    hits: list = []

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.hits.append((self.command, self.path, self.rfile.read(length) if length else b""))
        body = b'{"sub": "x"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args):
        return None


def _redirector(target: str, status: int):
    class Redirector(BaseHTTPRequestHandler):
        def _answer(self):
            self.send_response(status)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = _answer

        def log_message(self, *args):
            return None

    return Redirector


def _serve(handler):
    server = HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.mark.parametrize("status", [302, 307])
def test_idp_redirects_are_never_followed(monkeypatch, status):
    _Recorder.hits = []
    internal = _serve(_Recorder)
    public = _serve(_redirector(f"http://127.0.0.1:{internal.server_port}/internal", status))
    monkeypatch.setattr(sso_http, "check_url", lambda url, what="": None)
    backend = sso_backend.OrganizationOIDCBackend()
    backend.OIDC_OP_TOKEN_ENDPOINT = f"http://127.0.0.1:{public.server_port}/token"
    backend.OIDC_OP_USER_ENDPOINT = f"http://127.0.0.1:{public.server_port}/userinfo"
    with pytest.raises(sso_http.IdPError, match="redirect"):
        backend.get_token({"client_id": "c", "client_secret": "s3cret", "code": "abc", "grant_type": "x"})
    with pytest.raises(sso_http.IdPError, match="redirect"):
        backend.get_userinfo("access-token", "id-token", {"sub": "x"})
    assert _Recorder.hits == []
    internal.shutdown()
    public.shutdown()
