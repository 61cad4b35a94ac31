"""Outbound calls to an IdP: https only, no private addresses, bounded size and time, plain-words errors."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from jeto_identity.sso import http


@pytest.fixture
def production(settings):
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "SSO_ALLOW_LOCAL_IDPS": False}


@pytest.mark.parametrize(
    "url",
    [
        "http://idp.example.com",
        "ftp://idp.example.com",
        "https://127.0.0.1",
        "https://localhost",
        "https://10.1.2.3",
        "https://192.168.0.1",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]",
        "https://0.0.0.0",
        "not a url",
    ],
)
def test_production_refuses_non_https_and_internal_addresses(production, url):
    with pytest.raises(http.IdPError):
        http.check_url(url)


def test_production_accepts_a_public_https_ip(production):
    http.check_url("https://8.8.8.8/.well-known/openid-configuration")


def test_local_idps_are_allowed_when_configured(settings):
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "SSO_ALLOW_LOCAL_IDPS": True}
    http.check_url("http://localhost:8080")


def serve(handler_body):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            handler_body(self)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def local(settings):
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "SSO_ALLOW_LOCAL_IDPS": True, "SSO_HTTP_TIMEOUT": 0.5}


def test_oversized_documents_are_refused(local):
    def big(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.end_headers()
        handler.wfile.write(b'{"x": "' + b"a" * (http.MAX_BODY_BYTES + 10) + b'"}')

    server = serve(big)
    try:
        with pytest.raises(http.IdPError, match="larger than"):
            http.get_json(f"http://127.0.0.1:{server.server_port}/", "discovery document")
    finally:
        server.shutdown()


def test_a_trickling_idp_is_cut_off(local):
    def trickle(handler):
        handler.send_response(200)
        handler.end_headers()
        try:
            for _ in range(100):
                handler.wfile.write(b" ")
                handler.wfile.flush()
                time.sleep(0.1)
        except OSError:
            pass

    server = serve(trickle)
    started = time.monotonic()
    try:
        with pytest.raises(http.IdPUnreachable):
            http.get_json(f"http://127.0.0.1:{server.server_port}/", "discovery document")
        assert time.monotonic() - started < 3
    finally:
        server.shutdown()


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (302, b"", "answered HTTP 302"),
        (500, b"oops", "answered HTTP 500"),
        (200, b"<html>", "not valid JSON"),
        (200, b"[1, 2]", "not a JSON object"),
    ],
)
def test_bad_answers_in_plain_words(local, status, body, message):
    def answer(handler):
        handler.send_response(status)
        handler.send_header("Location", "http://169.254.169.254/")
        handler.end_headers()
        handler.wfile.write(body)

    server = serve(answer)
    try:
        with pytest.raises(http.IdPError, match=message):
            http.get_json(f"http://127.0.0.1:{server.server_port}/", "discovery document")
    finally:
        server.shutdown()
