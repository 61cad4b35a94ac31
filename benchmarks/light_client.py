"""A light HTTP/1.1 client for the benchmarks: one keep-alive socket and a cookie jar, nothing else.

The load generator shares the machine's cores with the server it measures, so its own CPU per request is taken
from the server's. ``requests`` costs about 1.5 ms of CPU per request (header objects, cookie policy, adapters);
this client reads the status line, the headers it needs and a ``Content-Length`` or chunked body with the
socket's buffered reader, in roughly a tenth of that. It speaks just enough for the benchmark's pages: GET, form
POSTs, Basic auth, ``Set-Cookie`` (including deletion) and no redirects followed.

The interface is the slice of ``requests.Session`` the login flows use (``get``, ``post``, ``cookies.clear()``,
``close()``; responses with ``status_code``, ``headers.get``, ``text``, ``json()``, ``request.method`` and
``request.path_url``), so a flow runs on either client.
"""

from __future__ import annotations

import base64
import json
import socket
import urllib.parse
from typing import Any


class ClientError(OSError):
    """The connection failed or the answer was not HTTP."""


class Headers(dict):
    """Response headers by lower-cased name (the last value of a repeated header, ``Set-Cookie`` aside)."""

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)


class SentRequest:
    __slots__ = ("method", "path_url")

    def __init__(self, method: str, path_url: str) -> None:
        self.method = method
        self.path_url = path_url


class Response:
    __slots__ = ("status_code", "headers", "content", "request")

    def __init__(self, status_code: int, headers: Headers, content: bytes, request: SentRequest) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content
        self.request = request

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)


class Browser:
    """A browser's worth of HTTP for one origin: keep-alive, cookies, forms, no redirects followed."""

    def __init__(self, base: str, timeout: float = 30.0) -> None:
        parts = urllib.parse.urlsplit(base)
        self.base = base.rstrip("/")
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self._sock: socket.socket | None = None
        self._reader: Any = None

    # --- the requests.Session slice ---

    def get(self, url: str, **kwargs: Any) -> Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, data: dict[str, str] | None = None, **kwargs: Any) -> Response:
        return self.request("POST", url, data=data or {}, **kwargs)

    def close(self) -> None:
        if self._sock is not None:
            self._reader.close()
            self._sock.close()
        self._sock = self._reader = None

    def request(
        self, method: str, url: str, data: dict[str, str] | None = None, auth: tuple[str, str] | None = None
    ) -> Response:
        path = url[len(self.base) :] if url.startswith(self.base) else url
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", "User-Agent: jeto-bench"]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{name}={value}" for name, value in self.cookies.items()))
        if auth is not None:
            lines.append("Authorization: Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode())
        body = b""
        if data is not None:
            body = urllib.parse.urlencode(data).encode()
            lines.append("Content-Type: application/x-www-form-urlencoded")
            lines.append(f"Content-Length: {len(body)}")
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        sent = SentRequest(method, path)
        reused = self._sock is not None
        try:
            return self._exchange(raw, sent)
        except (OSError, ClientError):
            self.close()
            if not reused:
                raise
        return self._exchange(raw, sent)  # the server closed an idle keep-alive connection: once more, anew

    # --- the wire ---

    def _exchange(self, raw: bytes, sent: SentRequest) -> Response:
        if self._sock is None:
            self._sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._reader = self._sock.makefile("rb")
        self._sock.sendall(raw)
        reader = self._reader
        status_line = reader.readline(65537)
        if not status_line:
            raise ClientError("connection closed before an answer")
        try:
            status = int(status_line.split(None, 2)[1])
        except (IndexError, ValueError):
            raise ClientError(f"not an HTTP status line: {status_line[:60]!r}") from None
        headers = Headers()
        while True:
            line = reader.readline(65537)
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "set-cookie":
                self._set_cookie(value)
            else:
                headers[name] = value
        content = self._body(reader, headers)
        if headers.get("connection", "").lower() == "close":
            self.close()
        return Response(status, headers, content, sent)

    @staticmethod
    def _body(reader: Any, headers: Headers) -> bytes:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            chunks = []
            while True:
                size = int(reader.readline(1024).split(b";", 1)[0], 16)
                if size == 0:
                    while reader.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(reader.read(size))
                reader.readline(1024)
        length = headers.get("content-length")
        if length is not None:
            return reader.read(int(length))
        return reader.read()  # no length: the body ends with the connection

    def _set_cookie(self, header: str) -> None:
        pair, *attributes = header.split(";")
        name, _, value = pair.strip().partition("=")
        value = value.strip().strip('"')
        lowered = [attribute.strip().lower() for attribute in attributes]
        expired = any(a == "max-age=0" or a.startswith("expires=thu, 01 jan 1970") for a in lowered)
        if expired or not value:
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = value
