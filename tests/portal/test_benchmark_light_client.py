"""The login benchmark's light HTTP client against a real server: keep-alive, cookies, forms, chunked bodies."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from benchmarks.light_client import Browser, ClientError


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def _send(self, status: int, body: bytes, headers: list[tuple[str, str]] = (), chunked: bool = False) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (body[:3], body[3:]):
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def do_GET(self):
        if self.path == "/set":
            self._send(302, b"", [("Set-Cookie", "sessionid=abc; HttpOnly; Path=/"), ("Location", "/next/")])
        elif self.path == "/unset":
            self._send(200, b"", [("Set-Cookie", 'sessionid=""; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0')])
        elif self.path == "/chunked":
            self._send(200, b'{"ok": true}', [("Content-Type", "application/json")], chunked=True)
        elif self.path == "/garbage":
            self.wfile.write(b"nonsense\r\n\r\n")
            self.close_connection = True
        else:
            self._send(200, f"cookie={self.headers.get('Cookie', '')}; port={self.client_address[1]}".encode())

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self._send(200, body + b"|" + self.headers.get("Authorization", "").encode())


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_cookies_redirects_and_keep_alive(server):
    browser = Browser(server)
    response = browser.get(server + "/set")
    assert response.status_code == 302 and response.headers.get("Location") == "/next/"
    first = browser.get("/echo").text
    second = browser.get("/echo").text
    assert first.startswith("cookie=sessionid=abc;")
    assert first.split("port=")[1] == second.split("port=")[1]  # the same connection
    browser.get("/unset")
    assert browser.cookies == {}
    browser.cookies["a"] = "1"
    browser.cookies.clear()
    assert browser.get("/echo").text.startswith("cookie=;")
    browser.close()


def test_forms_basic_auth_and_chunked_json(server):
    browser = Browser(server)
    response = browser.post(server + "/form", {"email": "a b@x.test", "n": "1"}, auth=("id", "s3cret"))
    assert response.text == "email=a+b%40x.test&n=1|Basic aWQ6czNjcmV0"
    assert response.request.method == "POST" and response.request.path_url == "/form"
    assert browser.get("/chunked").json() == {"ok": True}


def test_not_http_is_an_error_not_a_hang(server):
    with pytest.raises(ClientError):
        Browser(server, timeout=5).get("/garbage")
