"""Measure deleting N expired access tokens on PostgreSQL: Jeto's batched cleanup vs django-oauth-toolkit's.

    DATABASE_URL=postgres://USER@HOST:5432/SCRATCH_DB python benchmarks/cleanup_tokens.py --rows 1000000

The database must be a scratch one (its token tables are emptied). Rows are generated server-side with
``generate_series`` (no Python round trips); a few live tokens are added to prove they survive.
Results are printed as a Markdown table (docs/benchmarks-cleanup.md records a run).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "true")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from oauth2_provider.models import AccessToken, clear_expired  # noqa: E402

from jeto_identity.core import cleanup  # noqa: E402
from jeto_identity.models import OAuthClient, User  # noqa: E402

LIVE_ROWS = 1000


def prepare(rows: int) -> None:
    with connection.cursor() as cur:
        cur.execute("TRUNCATE oauth2_provider_refreshtoken, oauth2_provider_accesstoken CASCADE")
    user, _ = User.objects.get_or_create(email="bench@example.test")
    client, _ = OAuthClient.objects.get_or_create(
        name="bench",
        defaults={"client_type": "confidential", "authorization_grant_type": "client-credentials", "user": user},
    )
    insert = """
        INSERT INTO oauth2_provider_accesstoken
            (token, token_checksum, expires, scope, application_id, user_id, created, updated, resource)
        SELECT 'tok' || g, md5('tok' || g) || md5('x' || g), now() + %s * interval '1 hour', 'read', %s, NULL,
               now() - interval '2 hours', now() - interval '2 hours', '[]'::jsonb
        FROM generate_series(%s, %s) AS g
    """
    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(insert, [-1, client.pk, 1, rows])
        cur.execute(insert, [+1, client.pk, rows + 1, rows + LIVE_ROWS])
        cur.execute("ANALYZE oauth2_provider_accesstoken")
    print(f"  inserted {rows:,} expired + {LIVE_ROWS} live tokens in {time.perf_counter() - started:.1f}s", flush=True)


def run_jeto(batch_size: int) -> dict:
    batch_times: list[float] = []
    last = [time.perf_counter()]

    def progress(total: int) -> None:
        now = time.perf_counter()
        batch_times.append(now - last[0])
        last[0] = now

    _, queryset, raw = next(w for w in cleanup.expired_token_querysets() if w[0] == "expired access tokens")
    started = time.perf_counter()
    deleted = cleanup.delete_in_batches(queryset, batch_size=batch_size, progress=progress, raw=raw)
    ordered = sorted(batch_times or [0])
    return {
        "seconds": time.perf_counter() - started,
        "deleted": deleted,
        "max_batch": ordered[-1],
        "median_batch": ordered[len(ordered) // 2],
    }


def run_dot() -> dict:
    before = AccessToken.objects.count()
    started = time.perf_counter()
    clear_expired()  # what `manage.py cleartokens` runs
    elapsed = time.perf_counter() - started
    deleted = before - AccessToken.objects.count()
    return {"seconds": elapsed, "deleted": deleted, "max_batch": None, "median_batch": None}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=cleanup.DEFAULT_BATCH_SIZE)
    parser.add_argument("--skip-dot", action="store_true", help="Only time Jeto's cleanup.")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Point DATABASE_URL at a scratch PostgreSQL database.")
    call_command("migrate", verbosity=0)
    results = []
    print(f"Jeto jeto_cleanup (batch {args.batch_size}):", flush=True)
    prepare(args.rows)
    results.append((f"jeto_cleanup, batch {args.batch_size}", run_jeto(args.batch_size)))
    assert AccessToken.objects.count() == LIVE_ROWS, "live tokens must survive"
    if not args.skip_dot:
        print("django-oauth-toolkit cleartokens (default batch 10000):", flush=True)
        prepare(args.rows)
        results.append(("DOT cleartokens (clear_expired)", run_dot()))
        assert AccessToken.objects.count() == LIVE_ROWS
    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        version = cur.fetchone()[0]
    print(f"\nPostgreSQL {version}, {args.rows:,} expired access tokens + {LIVE_ROWS} live\n")
    print("| method | deleted | total | rows/s | batch (one transaction): median / longest |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, r in results:
        batch = f"{r['median_batch']:.2f}s / {r['max_batch']:.2f}s" if r["max_batch"] is not None else "n/a"
        rate = r["deleted"] / r["seconds"] if r["seconds"] else 0
        print(f"| {name} | {r['deleted']:,} | {r['seconds']:.1f}s | {rate:,.0f} | {batch} |")


if __name__ == "__main__":
    main()
