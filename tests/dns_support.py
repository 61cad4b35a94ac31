"""A real DNS server on loopback (dnslib), answering from a dict the test fills: TXT (split strings too), CNAME
chains, SERVFAIL, and a resolver address that never answers (for timeouts)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from dnslib import CNAME, QTYPE, RCODE, RR, TXT
from dnslib.server import BaseResolver, DNSServer


class ZoneResolver(BaseResolver):
    """``records[name]`` is ``("TXT", [strings, ...])`` (one list per record), ``("CNAME", target)`` or "SERVFAIL"."""

    def __init__(self) -> None:
        self.records: dict[str, object] = {}
        self.queries: list[str] = []

    def resolve(self, request, handler):
        reply = request.reply()
        qname = str(request.q.qname).rstrip(".").lower()
        self.queries.append(qname)
        entry = self.records.get(qname)
        if entry == "SERVFAIL":
            reply.header.rcode = RCODE.SERVFAIL
            return reply
        if entry is None:
            reply.header.rcode = RCODE.NXDOMAIN
            return reply
        kind, value = entry
        if kind == "CNAME":
            reply.add_answer(RR(request.q.qname, QTYPE.CNAME, rdata=CNAME(value + "."), ttl=60))
        elif request.q.qtype == QTYPE.TXT:
            for strings in value:
                reply.add_answer(RR(request.q.qname, QTYPE.TXT, rdata=TXT(strings), ttl=60))
        return reply


@pytest.fixture
def dns_server() -> Iterator[tuple[ZoneResolver, str]]:
    """(zone, "127.0.0.1:<port>"): a dnslib server on a free loopback port, UDP."""
    zone = ZoneResolver()
    server = DNSServer(zone, address="127.0.0.1", port=0)
    server.start_thread()
    port = server.server.server_address[1]
    try:
        yield zone, f"127.0.0.1:{port}"
    finally:
        server.stop()
        server.server.server_close()


@pytest.fixture
def silent_resolver() -> Iterator[str]:
    """A UDP port that receives queries and never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield f"127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()
