"""The benchmark's stock-DOT side serves the same document as the portal, and its wrk parser reads wrk's output."""

from __future__ import annotations

import pytest
from django.test import override_settings

from benchmarks import token_endpoint
from tests.api_clients_support import api, get_token

WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:8765/api/v1/organization
  2 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.10ms    1.20ms  40.00ms   90.00%
    Req/Sec   700.00    100.00     1.00k    70.00%
  Latency Distribution
     50%  850.00us
     75%    2.00ms
     90%    3.00ms
     99%    1.20s
  13950 requests in 10.01s, 4.10MB read
  Non-2xx or 3xx responses: 3
Requests/sec:   1393.61
Transfer/sec:    419.00KB
"""


def test_wrk_output_is_parsed(monkeypatch):
    class Done:
        stdout = WRK_OUTPUT

    monkeypatch.setattr(token_endpoint.subprocess, "run", lambda *a, **k: Done())
    result = token_endpoint.wrk("http://127.0.0.1:8765/", 10, 4)
    assert result["rps"] == pytest.approx(1393.61)
    assert result["total"] == 13950 and result["non_2xx"] == 3
    assert result["p50_ms"] == pytest.approx(0.85) and result["p99_ms"] == pytest.approx(1200.0)


@pytest.mark.parametrize("path", ["organization", "members"])
def test_stock_endpoint_returns_the_same_document(client, acme_conn, acme_member, path):
    token = get_token(client, acme_conn)
    ours = api(client, path, token).json()
    with override_settings(ROOT_URLCONF="benchmarks.stock_urls"):
        stock = client.get(f"/api/v1/{path}", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert stock.status_code == 200 and stock.json() == ours
    assert path != "members" or ours["count"] == 1
