"""Provision N users through SCIM the way Okta does (look up by userName, then POST), then push them all into one
group and deactivate a sample: time and SQL queries per user.

    DATABASE_URL=postgres://USER@HOST:5432/SCRATCH_DB python benchmarks/scim_bulk.py --users 1000

Without DATABASE_URL a throwaway SQLite file in a temporary directory is used. The database must be a scratch one:
the benchmark migrates it and adds an organisation named "SCIM bench" (removed first if a previous run left one).
Requests go through the WSGI application in-process (Django's test client, no HTTP server), so the figures are the
server's own cost; the per-token rate limit is switched off for the run (an IdP paces itself).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
if not os.environ.get("DATABASE_URL"):
    os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/scim_bench.sqlite3"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from jeto_identity.conf import jeto_settings  # noqa: E402
from jeto_identity.models import Organization, OrganizationDomain, User  # noqa: E402
from jeto_identity.provisioning import tokens  # noqa: E402

DOMAIN = "scim-bench.example.com"
JSON = "application/scim+json"


class Counter:
    """Counts the SQL statements executed (a database execute wrapper: works with any backend and pool)."""

    def __init__(self) -> None:
        self.count = 0
        self.statements: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        self.statements.append(sql)
        return execute(sql, params, many, context)


def timed(client: Client, method: str, path: str, body: dict | None = None, **params) -> tuple[float, int, object]:
    queries = Counter()
    with connection.execute_wrapper(queries):
        started = time.perf_counter()
        if body is None:
            response = getattr(client, method)(path, params)
        else:
            response = getattr(client, method)(path, json.dumps(body), content_type=JSON)
        elapsed = time.perf_counter() - started
    if response.status_code >= 300 and response.status_code != 404:
        raise SystemExit(f"{method.upper()} {path}: {response.status_code} {response.content[:300]!r}")
    if os.environ.get("SCIM_BENCH_SHOW_SQL") and method == "post":
        print("\n".join(sql[:140] for sql in queries.statements))
        os.environ.pop("SCIM_BENCH_SHOW_SQL")
    return elapsed, queries.count, response


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--deactivate", type=int, default=100, help="how many of them to deactivate afterwards")
    args = parser.parse_args()

    setup_test_environment()  # the test client's host, and no real mail
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "SCIM_REQUESTS_PER_MINUTE": 0}
    jeto_settings.reload()
    call_command("migrate", verbosity=0)
    Organization.objects.filter(slug="scim-bench").delete()
    User.objects.filter(email__endswith=f"@{DOMAIN}").delete()
    org = Organization.objects.create(name="SCIM bench", slug="scim-bench")
    OrganizationDomain.objects.create(organization=org, domain=DOMAIN, verified=True)
    token = tokens.issue(org, "bench").secret
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    print(f"database: {connection.vendor}; users: {args.users}")

    lookup_t, lookup_q, create_t, create_q, ids = [], [], [], [], []
    started = time.perf_counter()
    for i in range(args.users):
        email = f"user{i:05d}@{DOMAIN}"
        t, q, _ = timed(client, "get", "/scim/v2/Users", filter=f'userName eq "{email}"')
        lookup_t.append(t)
        lookup_q.append(q)
        body = {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": email,
            "name": {"givenName": f"User{i}", "familyName": "Bench"},
            "emails": [{"primary": True, "value": email, "type": "work"}],
            "displayName": f"User{i} Bench",
            "externalId": f"00u{i:017d}",
            "active": True,
        }
        t, q, response = timed(client, "post", "/scim/v2/Users", body)
        create_t.append(t)
        create_q.append(q)
        ids.append(response.json()["id"])
    provision_s = time.perf_counter() - started

    group_body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Everyone", "members": []}
    _, _, group = timed(client, "post", "/scim/v2/Groups", group_body)
    push = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "members", "value": [{"value": i} for i in ids]}],
    }
    push_t, push_q, _ = timed(client, "patch", f"/scim/v2/Groups/{group.json()['id']}", push)

    off_t, off_q = [], []
    deactivate = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Replace", "path": "active", "value": "False"}],
    }
    for scim_id in ids[: args.deactivate]:
        t, q, _ = timed(client, "patch", f"/scim/v2/Users/{scim_id}", deactivate)
        off_t.append(t)
        off_q.append(q)
    list_t, list_q, _ = timed(client, "get", "/scim/v2/Users", count=200)

    ms = 1000
    print()
    print("| step | n | total s | per user ms (median / p95 / max) | queries per request (median / max) |")
    print("| --- | ---: | ---: | --- | --- |")
    for name, times, queries in (
        ("lookup (GET filter userName eq)", lookup_t, lookup_q),
        ("create (POST /Users)", create_t, create_q),
        ('deactivate (PATCH active "False")', off_t, off_q),
    ):
        print(
            f"| {name} | {len(times)} | {sum(times):.2f} | {statistics.median(times) * ms:.1f} / "
            f"{pct(times, 95) * ms:.1f} / {max(times) * ms:.1f} | {statistics.median(queries):.0f} / {max(queries)} |"
        )
    print(f"| group push (one PATCH, {len(ids)} members) | 1 | {push_t:.2f} | — | {push_q} |")
    print(f"| list 200 users (GET /Users?count=200) | 1 | {list_t:.2f} | — | {list_q} |")
    print()
    print(
        f"provisioned {args.users} users (lookup + create) in {provision_s:.1f} s: "
        f"{args.users / provision_s:.0f} users/s, {(sum(lookup_q) + sum(create_q)) / args.users:.1f} queries per user"
    )


if __name__ == "__main__":
    main()
