#!/usr/bin/env python
"""What the session registry (``jeto_identity.core.sessions``) costs a sign-in and an ordinary request.

In-process, against a throwaway test database (SQLite, or PostgreSQL with ``DATABASE_URL``; Redis with
``REDIS_URL``): whole email-first password sign-ins and signed-in page views through Django's test client, with
every SQL statement captured. It prints, per sign-in and per request, the statements and the writes (INSERT,
UPDATE, DELETE) with the registry on and with it off (its receivers disconnected, its middleware removed), and the
registry middleware's own time per request (median of its cache read, in microseconds).

Targets: at most one extra write per sign-in (the registry row); no statement on an ordinary request (one cache
read), a ``last_seen_at`` UPDATE at most once per ``SESSION_LAST_SEEN_SECONDS`` per session.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jeto_bench_sessions REDIS_URL=redis://127.0.0.1:6379/11 \\
      .venv/bin/python benchmarks/sessions.py --sign-ins 50 --requests 200
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")

PASSWORD = "benchmark passphrase 123"  # noqa: S105 - a throwaway account in a throwaway database
WRITES = ("insert", "update", "delete")


def _statements(queries: list[dict]) -> tuple[int, int, int]:
    sql = [q["sql"].lstrip().lower() for q in queries]
    writes = [s for s in sql if s.startswith(WRITES)]
    registry = [s for s in writes if "usersession" in s]
    return len(sql), len(writes), len(registry)


def _sign_ins(count: int, prefix: str) -> tuple[float, float, float]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from jeto_identity.models import User

    totals = []
    for i in range(count):
        email = f"{prefix}{i}@bench.test"
        User.objects.create_user(email=email, password=PASSWORD)
        client = Client()
        client.get("/login/")
        with CaptureQueriesContext(connection) as captured:
            client.post("/login/", {"email": email})
            response = client.post("/login/password/", {"password": PASSWORD})
        assert response.status_code == 302 and response["Location"] == "/account/", response
        totals.append(_statements(captured.captured_queries))
    return tuple(statistics.mean(t[k] for t in totals) for k in range(3))


def _requests(count: int) -> tuple[float, float, float, float]:
    from django.db import connection
    from django.test import Client, RequestFactory
    from django.test.utils import CaptureQueriesContext

    from jeto_identity.core.sessions import SessionRegistryMiddleware
    from jeto_identity.models import User

    User.objects.create_user(email="reader@bench.test", password=PASSWORD)
    client = Client()
    client.post("/login/", {"email": "reader@bench.test"})
    client.post("/login/password/", {"password": PASSWORD})
    client.get("/account/")
    per_request = []
    for _ in range(count):
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/account/").status_code == 200
        per_request.append(_statements(captured.captured_queries))
    # The middleware's own work on a signed-in request: the cache read (and nothing else within the interval).
    request = RequestFactory().get("/account/")
    request.COOKIES["sessionid"] = client.cookies["sessionid"].value
    request.session = client.session
    middleware = SessionRegistryMiddleware(lambda r: None)
    times = []
    for _ in range(count):
        start = time.perf_counter()
        middleware._check(request)
        times.append((time.perf_counter() - start) * 1e6)
    means = [statistics.mean(t[k] for t in per_request) for k in range(3)]
    return means[0], means[1], means[2], statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sign-ins", type=int, default=50)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    import django
    from django.conf import settings

    django.setup()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # statements, not hashing
    settings.AXES_ENABLED = False
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.DEBUG = False
    from django.contrib.auth import get_user_model
    from django.contrib.auth.signals import user_logged_in, user_logged_out
    from django.db import connection
    from django.test.utils import setup_test_environment

    from jeto_identity.core import sessions

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        engine = connection.vendor
        on = _sign_ins(args.sign_ins, "on")
        reading = _requests(args.requests)
        user_model = get_user_model()
        user_logged_in.disconnect(sender=user_model, dispatch_uid="jeto_sessions_logged_in")
        user_logged_out.disconnect(sender=user_model, dispatch_uid="jeto_sessions_logged_out")
        # Each test client loads the middleware anew, so the next sign-ins run without the registry's.
        settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if not m.endswith("SessionRegistryMiddleware")]
        off = _sign_ins(args.sign_ins, "off")
        sessions.connect()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)

    print(f"database: {engine}; {args.sign_ins} sign-ins per side, {args.requests} signed-in requests")
    print(f"sign-in, registry on : {on[0]:.1f} statements, {on[1]:.1f} writes ({on[2]:.1f} to the registry)")
    print(f"sign-in, registry off: {off[0]:.1f} statements, {off[1]:.1f} writes")
    print(f"extra per sign-in    : {on[0] - off[0]:+.1f} statements, {on[1] - off[1]:+.1f} writes")
    print(
        f"signed-in request    : {reading[0]:.1f} statements, {reading[1]:.1f} writes "
        f"({reading[2]:.2f} to the registry); registry middleware {reading[3]:.1f} µs (median, cache read)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
