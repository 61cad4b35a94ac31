#!/usr/bin/env python
"""What the plan check costs at the token endpoint: queries and time per client-credentials grant, in-process.

Creates a throwaway test database (SQLite in memory, or ``test_<name>`` on the PostgreSQL of ``DATABASE_URL``), one
organisation with a plan and one application connection, then requests N tokens through Django's test client,
first with ``plans.is_entitled`` as it is, then with it replaced by ``lambda *a: True`` (the cost without plans).
Prints the ORM queries per grant and the median of 5 alternating rounds of the mean time per grant for each.

    python benchmarks/entitlements.py 300
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jeto_bench python benchmarks/entitlements.py 300
"""

from __future__ import annotations

import base64
import os
import statistics
import sys
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")
os.environ.setdefault("JETO_LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_databases, setup_test_environment  # noqa: E402

ROUNDS = 5


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    setup_test_environment()
    old = setup_databases(verbosity=0, interactive=False)
    try:
        from jeto_identity.connections import services as clients
        from jeto_identity.models import Organization
        from jeto_identity.orgadmin import plans

        org = Organization.objects.create(name="Bench", slug="bench")
        plans.set_feature(org, plans.API_CLIENTS, True)
        issued = clients.issue_client(organization=org, name="bench", scopes="org:read")
        auth = "Basic " + base64.b64encode(f"{issued.client_id}:{issued.client_secret}".encode()).decode()
        client = Client()

        def grant() -> None:
            response = client.post("/o/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=auth)
            assert response.status_code == 200, response.content

        def queries_per_grant() -> int:
            seen: list[str] = []

            def count(execute, sql, params, many, context):
                seen.append(sql)
                return execute(sql, params, many, context)

            with connection.execute_wrapper(count):  # (Django resets CaptureQueriesContext at request_started)
                grant()
            return len(seen)

        def one_round() -> float:
            started = time.perf_counter()
            for _ in range(count):
                grant()
            return (time.perf_counter() - started) / count * 1000

        for _ in range(20):
            grant()  # warm both paths (hashers, compiled lookups, connection)
        with_rounds, without_rounds = [], []
        for index in range(ROUNDS):  # alternate (and swap who goes first), so drift hits both alike
            for variant in ("with", "without") if index % 2 else ("without", "with"):
                if variant == "with":
                    with_rounds.append(one_round())
                else:
                    with mock.patch.object(plans, "is_entitled", lambda *args: True):
                        without_rounds.append(one_round())
        with_plans = (queries_per_grant(), statistics.median(with_rounds))
        with mock.patch.object(plans, "is_entitled", lambda *args: True):
            without = (queries_per_grant(), statistics.median(without_rounds))
        print(f"database: {connection.vendor}, {count} grants x {ROUNDS} rounds")
        print(f"rounds with: {[round(r, 2) for r in with_rounds]}, without: {[round(r, 2) for r in without_rounds]}")
        print(f"with the plan check:    {with_plans[0]} queries/grant, {with_plans[1]:.2f} ms/grant (median round)")
        print(f"without (always True):  {without[0]} queries/grant, {without[1]:.2f} ms/grant (median round)")
        print(f"difference:             {with_plans[0] - without[0]:+d} query, {with_plans[1] - without[1]:+.2f} ms")
    finally:
        from django.test.utils import teardown_databases

        teardown_databases(old, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
