"""Outbound calls to an IdP: bounded in time and size, and never to internal addresses unless allowed.

An org admin types the issuer URL, and the server fetches it: without these rules that is a server-side request
forgery into the private network. Redirects are not followed for the same reason.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import requests

from jeto_identity.conf import jeto_settings

MAX_BODY_BYTES = 512 * 1024


class IdPError(Exception):
    """A problem talking to the IdP, in words an org admin (and, trimmed, an end user) can act on."""


class IdPUnreachable(IdPError):
    """The IdP didn't answer in time or refused the connection."""


def timeout() -> float:
    return float(jeto_settings.SSO_HTTP_TIMEOUT)


def check_url(url: str, what: str = "IdP URL") -> None:
    """Refuse non-https URLs and hosts that resolve to loopback, private or link-local addresses."""
    parts = urlsplit(url or "")
    allow_local = jeto_settings.SSO_ALLOW_LOCAL_IDPS
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise IdPError(f"The {what} {url!r} is not an http(s) URL.")
    if parts.scheme != "https" and not allow_local:
        raise IdPError(f"The {what} must use https:// ({url}).")
    if allow_local:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise IdPUnreachable(f"The host of the {what} ({parts.hostname}) can't be resolved.") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise IdPError(f"The {what} points to a private or local network address, which is not allowed.")


def _read_bounded(response: requests.Response, deadline: float, what: str) -> bytes:
    """Read at most MAX_BODY_BYTES + 1 bytes, and give up at ``deadline`` even if the IdP keeps trickling data."""
    chunks: list[bytes] = []
    size = 0
    # urllib3 2's read1 returns whatever has arrived instead of waiting for a full chunk.
    read = getattr(response.raw, "read1", response.raw.read)
    while True:
        chunk = read(16 * 1024, decode_content=True)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            break
        if time.monotonic() > deadline:
            raise IdPUnreachable(f"The IdP is sending the {what} too slowly.")
    return b"".join(chunks)


def get_bytes(url: str, what: str, accept: str = "*/*") -> bytes:
    """GET a document from the IdP: address rules, timeout, no redirects, bounded size, plain-words errors."""
    check_url(url, what)
    try:
        with requests.get(
            url, timeout=timeout(), allow_redirects=False, stream=True, headers={"Accept": accept}
        ) as response:
            if response.status_code != 200:
                raise IdPError(f"The {what} answered HTTP {response.status_code} (expected 200) at {url}.")
            body = _read_bounded(response, deadline=time.monotonic() + 2 * timeout(), what=what)
    except requests.Timeout as exc:
        raise IdPUnreachable(f"The IdP did not answer within {timeout():g} seconds ({what}).") from exc
    except requests.ConnectionError as exc:
        raise IdPUnreachable(f"Couldn't connect to the IdP ({what} at {url}).") from exc
    except requests.RequestException as exc:
        raise IdPError(f"Fetching the {what} failed: {exc.__class__.__name__}.") from exc
    if len(body) > MAX_BODY_BYTES:
        raise IdPError(f"The {what} is larger than {MAX_BODY_BYTES // 1024} KiB.")
    return body


def get_json(url: str, what: str) -> dict[str, Any]:
    """GET a JSON object from the IdP (see ``get_bytes``)."""
    body = get_bytes(url, what, accept="application/json")
    try:
        data = requests.models.complexjson.loads(body)
    except ValueError as exc:
        raise IdPError(f"The {what} is not valid JSON.") from exc
    if not isinstance(data, dict):
        raise IdPError(f"The {what} is not a JSON object.")
    return data
