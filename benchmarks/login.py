#!/usr/bin/env python
"""User login against the speed of its password hash: whole email-first sign-ins/s vs the Argon2 ceiling.

Every sign-in runs one Argon2id verification (the portal's ``OwaspArgon2PasswordHasher``), so the machine's
cores cap sign-ins at about (verifications/s per core × cores). The script

1. measures that **hash ceiling**: one process per core verifying a user's stored hash in a loop (hashes/s);
2. starts gunicorn itself (portal settings, ``DEBUG=false``, PostgreSQL and Redis, the fast paths as the portal
   has them, 2 gthread/1 workers by default) and drives **whole sign-ins** from Python threads with ``requests``
   (4 connections by default): GET /login/ (CSRF cookie and token), POST the email, POST the password, expecting
   a 302 to the next URL. Each sign-in starts a new session (cookies cleared) as a distinct user, so per-account
   throttling never trips on legitimate sign-ins;
3. measures the ceiling again, and prints sign-ins/s, p50/p99 of a whole sign-in, failures, the ratio to the
   ceiling, and PostgreSQL transactions and CPU per sign-in.

Scenarios (``--scenario``, all by default):

- ``password``: email, password → 302 to the account page;
- ``totp``: the same for users with a confirmed authenticator, then POST the current TOTP code (computed with
  django_otp's ``TOTP``) at /login/mfa/ → 302 to the account page. A code is accepted once per device and time
  step, so each user signs in at most once per run (``--users`` must exceed the sign-ins of a run);
- ``oidc``: a trusted (consent-less) relying party's authorization-code round trip with PKCE: GET /o/authorize/ →
  sign-in pages → GET /o/authorize/ again → 302 with a code → POST /o/token/ → ID token.

Usage (needs PostgreSQL and Redis)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jeto_bench_login REDIS_URL=redis://127.0.0.1:6379/10 \\
      .venv/bin/python benchmarks/login.py --recreate

Options: --duration SECONDS (10), --connections N (4), --workers N (2), --threads N (1), --users N (1500),
--scenario password|totp|oidc (repeatable), --ceiling-seconds N (5), --recreate.

Queries per sign-in are PostgreSQL transactions (``pg_stat_database.xact_commit + xact_rollback`` of the database):
with autocommit every statement outside ``atomic()`` is one, so it is a lower bound of the statements
(``pg_stat_statements`` needs a server restart to load). CPU per sign-in is gunicorn + this run's PostgreSQL
backends (the token benchmark's ``CpuMeter``); the client's CPU is shown apart, Redis's is not counted.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import multiprocessing
import os
import re
import secrets
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.light_client import Browser as LightBrowser  # noqa: E402
from benchmarks.token_endpoint import PY, CpuMeter, Gunicorn, ensure_database, env_for  # noqa: E402

PASSWORD = "correct horse battery staple 42"
DOMAIN = "login-bench.example"
REDIRECT_URI = "https://rp.login-bench.example/callback"
NEXT_URL = "/account/"
SCENARIOS = ("password", "totp", "oidc")
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


# --- data (run in a subprocess with the portal's settings) ---------------------------------------------------


def setup_data(users: int) -> dict:
    """Users sharing one Argon2 hash (hashing each would take minutes), TOTP users, a trusted relying party."""
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from jeto_identity.mfa import services as mfa
    from jeto_identity.models import Membership, Organization, Role, User
    from jeto_identity.provider import relying_parties

    encoded = make_password(PASSWORD)
    emails = {kind: [f"{kind}{n:05d}@{DOMAIN}" for n in range(users)] for kind in ("pw", "totp")}
    existing = set(User.objects.filter(email__endswith=f"@{DOMAIN}").values_list("email", flat=True))
    # Each benchmark sign-in is a new browser: without this, every one would also mail "sign-in from a new device"
    # (trees older than that mail have no such field).
    fields = {field.name for field in User._meta.get_fields()}
    quiet = {"notify_new_sign_ins": False} if "notify_new_sign_ins" in fields else {}
    with transaction.atomic():
        User.objects.bulk_create(
            [
                User(email=email, password=encoded, is_active=True, **quiet)
                for email in emails["pw"] + emails["totp"]
                if email not in existing
            ]
        )
        User.objects.filter(email__endswith=f"@{DOMAIN}").update(password=encoded, **quiet)
    # Each user belongs to one organisation (no verified domain, no SSO, MFA not required), as most do.
    org, _ = Organization.objects.get_or_create(slug="login-bench", defaults={"name": "Login Benchmark"})
    Membership.objects.bulk_create(
        [
            Membership(user=user, organization=org, role=Role.MEMBER)
            for user in User.objects.filter(email__endswith=f"@{DOMAIN}")
        ],
        ignore_conflicts=True,
    )
    keys = []
    for user in User.objects.filter(email__in=emails["totp"]).order_by("email"):
        device = mfa.confirmed_totp_device(user)
        if device is None:
            from django_otp.oath import TOTP

            device = mfa.start_enrolment(user)
            totp = TOTP(device.bin_key, step=device.step, digits=device.digits)
            totp.time = time.time() - device.step
            result, _ = mfa.confirm_enrolment(user, device.pk, f"{totp.token():0{device.digits}d}")
            assert result.ok, result
            device.refresh_from_db()
        keys.append(device.bin_key.hex())
    name = "login-bench RP"
    from jeto_identity.models import RelyingParty

    RelyingParty.objects.filter(name=name).delete()
    rp = relying_parties.register(name=name, redirect_uris=REDIRECT_URI, trusted=True)
    return {
        "pw": emails["pw"],
        "totp": [[email, key] for email, key in zip(sorted(emails["totp"]), keys, strict=True)],
        "rp": {"client_id": rp.client.client_id, "client_secret": rp.client_secret},
        "encoded": encoded,
    }


# --- the hash ceiling ------------------------------------------------------------------------------------------


def _verify_loop(args: tuple[str, float]) -> tuple[int, float]:
    from jeto_identity.core.hashers import OwaspArgon2PasswordHasher

    encoded, seconds = args
    hasher, done, deadline, cpu = OwaspArgon2PasswordHasher(), 0, time.monotonic() + seconds, time.process_time()
    while time.monotonic() < deadline:
        assert hasher.verify(PASSWORD, encoded)
        done += 1
    return done, time.process_time() - cpu


def hash_ceiling(encoded: str, seconds: float) -> tuple[float, float]:
    """Argon2 verifications/s with one process per core (the most sign-ins/s this machine could do now), and
    the CPU ms of one verification."""
    cores = os.cpu_count() or 1
    with multiprocessing.get_context("fork").Pool(cores) as pool:
        started = time.monotonic()
        runs = pool.map(_verify_loop, [(encoded, seconds)] * cores)
        wall = time.monotonic() - started
    done = sum(n for n, _ in runs)
    return done / wall, 1000 * sum(cpu for _, cpu in runs) / max(done, 1)


# --- the client ------------------------------------------------------------------------------------------------


class SignInFailed(Exception):
    pass


def _expect(response, status: int, location: str | None = None) -> str:
    if response.status_code != status:
        raise SignInFailed(f"{response.request.method} {response.request.path_url}: {response.status_code}")
    got = response.headers.get("Location", "")
    if location is not None and got != location:
        raise SignInFailed(f"{response.request.path_url}: redirected to {got!r}, expected {location!r}")
    return got


def _totp_code(key_hex: str) -> str:
    from django_otp.oath import TOTP

    totp = TOTP(bytes.fromhex(key_hex))  # the device defaults: 30 s steps, 6 digits
    return f"{totp.token():06d}"


def _email_and_password(session, base: str, email: str, next_url: str, login_url: str = "/login/") -> str:
    page = session.get(base + login_url)
    _expect(page, 200)
    match = CSRF_INPUT.search(page.text)
    if not match:
        raise SignInFailed("no CSRF token on the email page")
    csrf = match.group(1)
    _expect(
        session.post(f"{base}/login/", {"csrfmiddlewaretoken": csrf, "email": email, "next": next_url}),
        302,
        "/login/password/",
    )
    return csrf


def sign_in_password(session, base: str, account, rp: dict) -> None:
    csrf = _email_and_password(session, base, account, "")
    _expect(session.post(f"{base}/login/password/", {"csrfmiddlewaretoken": csrf, "password": PASSWORD}), 302, NEXT_URL)


def sign_in_totp(session, base: str, account, rp: dict) -> None:
    email, key = account
    csrf = _email_and_password(session, base, email, "")
    _expect(
        session.post(f"{base}/login/password/", {"csrfmiddlewaretoken": csrf, "password": PASSWORD}),
        302,
        "/login/mfa/",
    )
    _expect(session.post(f"{base}/login/mfa/", {"csrfmiddlewaretoken": csrf, "code": _totp_code(key)}), 302, NEXT_URL)


_RP_SERVER = threading.local()


def _relying_party_server(session, base: str):
    """The relying party redeems the code from its own server: its own connection, none of the browser's cookies."""
    client = getattr(_RP_SERVER, "client", None)
    if client is None:
        kind = LightBrowser if isinstance(session, LightBrowser) else _requests_browser
        client = _RP_SERVER.client = kind(base)
    client.cookies.clear()
    return client


def sign_in_oidc(session, base: str, account, rp: dict) -> None:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state = secrets.token_urlsafe(8)
    authorize = "/o/authorize/?" + urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": rp["client_id"],
            "redirect_uri": REDIRECT_URI,
            "scope": "openid profile email",
            "state": state,
            "nonce": secrets.token_urlsafe(8),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    login_url = _expect(session.get(base + authorize), 302)  # to the sign-in page, next = the authorize URL
    if not login_url.startswith("/login/"):
        raise SignInFailed(f"authorize sent an anonymous browser to {login_url!r}")
    next_url = urllib.parse.parse_qs(urllib.parse.urlsplit(login_url).query).get("next", [""])[0]
    csrf = _email_and_password(session, base, account, next_url, login_url)
    _expect(session.post(f"{base}/login/password/", {"csrfmiddlewaretoken": csrf, "password": PASSWORD}), 302, next_url)
    callback = _expect(session.get(base + next_url), 302)
    params = urllib.parse.parse_qs(urllib.parse.urlsplit(callback).query)
    if not callback.startswith(REDIRECT_URI) or params.get("state") != [state]:
        raise SignInFailed(f"authorize redirected to {callback[:80]!r}")
    token = _relying_party_server(session, base).post(
        f"{base}/o/token/",
        {
            "grant_type": "authorization_code",
            "code": params["code"][0],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        auth=(rp["client_id"], rp["client_secret"]),
    )
    _expect(token, 200)
    if "id_token" not in token.json():
        raise SignInFailed("no ID token")


FLOWS = {"password": sign_in_password, "totp": sign_in_totp, "oidc": sign_in_oidc}


def _requests_browser(base: str):
    import requests

    class Browser(requests.Session):
        """Redirects are answers to check, not to follow."""

        def request(self, *args, **kwargs):
            kwargs["allow_redirects"] = False  # Session.get() asks for them
            return super().request(*args, **kwargs)

    return Browser()


CLIENTS = {"light": LightBrowser, "requests": _requests_browser}


def drive(
    base: str, flow, accounts: list, rp: dict, duration: float, connections: int, start: int = 0, client: str = "light"
) -> dict:
    """``connections`` threads, each with one keep-alive connection, doing whole sign-ins for ``duration`` s."""
    import requests

    lock = threading.Lock()
    state = {"next": start}
    latencies: list[float] = []
    failures: list[str] = []

    def worker(deadline: float) -> None:
        session = CLIENTS[client](base)
        while time.monotonic() < deadline:
            with lock:
                account = accounts[state["next"] % len(accounts)]
                state["next"] += 1
            session.cookies.clear()  # a new browser session per sign-in
            started = time.monotonic()
            try:
                flow(session, base, account, rp)
            except (SignInFailed, requests.RequestException, OSError, ValueError) as error:
                with lock:
                    failures.append(str(error))
                continue
            elapsed = time.monotonic() - started
            with lock:
                latencies.append(elapsed)
        session.close()

    cpu_before = time.process_time()
    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(started + duration,)) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - started
    latencies.sort()

    def pct(p: float) -> float:
        return 1000 * latencies[min(len(latencies) - 1, int(p * len(latencies)))] if latencies else float("nan")

    return {
        "total": len(latencies),
        "failures": len(failures),
        "failure_examples": sorted(set(failures))[:3],
        "rate": len(latencies) / wall,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "mean_ms": 1000 * statistics.fmean(latencies) if latencies else float("nan"),
        "client_cpu_s": time.process_time() - cpu_before,
        "next": state["next"],
    }


def transactions(database_url: str) -> int:
    import psycopg

    name = urllib.parse.urlparse(database_url).path.lstrip("/")
    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
        row = conn.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s", (name,)
        ).fetchone()
    return int(row[0]) - 1  # this query's own transaction


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--users", type=int, default=1500, help="accounts per kind (password, TOTP)")
    parser.add_argument("--scenario", action="append", choices=SCENARIOS, default=None)
    parser.add_argument("--ceiling-seconds", type=float, default=5.0)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument(
        "--client", choices=sorted(CLIENTS), default="light", help="the load generator's HTTP client (light: ours)"
    )
    parser.add_argument("--recreate", action="store_true", help="drop and recreate the (…bench…) database first")
    parser.add_argument("--setup", type=int, default=None, help=argparse.SUPPRESS)  # internal: create the data
    args = parser.parse_args()
    if args.setup is not None:
        print(json.dumps(setup_data(args.setup)))
        return 0

    database_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/jeto_bench_login")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/10")
    if not database_url.startswith("postgres"):
        print("Set DATABASE_URL to a PostgreSQL database (the benchmark's own).", file=sys.stderr)
        return 2
    scenarios = args.scenario or list(SCENARIOS)
    ensure_database(database_url, recreate=args.recreate)
    env = {**env_for("config.settings", database_url, redis_url), "JETO_FASTPATHS": "true"}
    subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True, capture_output=True)
    setup = subprocess.run(
        [PY, "-m", "benchmarks.login", "--setup", str(args.users)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if setup.returncode:
        print(setup.stderr[-4000:], file=sys.stderr)
        return 1
    data = json.loads(setup.stdout.strip().splitlines()[-1])
    accounts = {"password": data["pw"], "totp": data["totp"], "oidc": data["pw"]}
    # Throttle counters of earlier runs (Redis db of this benchmark only).
    import redis

    redis.Redis.from_url(redis_url).flushdb()

    load_before = os.getloadavg()
    ceiling_before, hash_cpu_ms = hash_ceiling(data["encoded"], args.ceiling_seconds)
    print(f"hash ceiling: {ceiling_before:.1f} verifications/s", file=sys.stderr, flush=True)
    results = {}
    cursor = {"password": 0, "totp": 0, "oidc": len(data["pw"]) // 2}
    server = Gunicorn(env, args.port, args.workers, args.threads, "gthread")
    with server as base:
        for scenario in scenarios:
            flow = FLOWS[scenario]
            warm = drive(
                base, flow, accounts[scenario], data["rp"], 2, args.connections, cursor[scenario], args.client
            )
            cursor[scenario] = warm["next"]
            if warm["failures"]:
                print(f"{scenario} warm-up failures: {warm['failure_examples']}", file=sys.stderr)
            time.sleep(1.5)
            xact_before = transactions(database_url)
            meter = CpuMeter(server.proc.pid, database_url)
            run = meter.measure(
                drive,
                base,
                flow,
                accounts[scenario],
                data["rp"],
                args.duration,
                args.connections,
                cursor[scenario],
                args.client,
            )
            cursor[scenario] = run["next"]
            time.sleep(2.5)  # backends report their transaction counts when idle, at most once a second
            run["transactions"] = transactions(database_url) - xact_before
            if scenario == "totp" and run["next"] > len(accounts["totp"]):
                print("warning: TOTP users reused within the run; raise --users", file=sys.stderr)
            results[scenario] = run
            print(f"{scenario}: done", file=sys.stderr, flush=True)
    ceiling_after, _ = hash_ceiling(data["encoded"], args.ceiling_seconds)
    ceiling = (ceiling_before + ceiling_after) / 2

    print(
        f"\ngunicorn {args.workers} x gthread/{args.threads}, {args.connections} client connections (Python threads,"
        f" {args.client} client), {args.duration}s per scenario, 127.0.0.1, PostgreSQL + Redis, fast paths on"
    )
    print(f"{os.cpu_count()} CPUs; load average before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f}")
    print(
        f"hash ceiling (Argon2id verifications/s, one process per core): {ceiling_before:.1f} before,"
        f" {ceiling_after:.1f} after, mean {ceiling:.1f}\n"
    )
    print(f"{'':30}" + "".join(f"{s:>14}" for s in results))
    rows = [
        ("sign-ins/s", lambda r: f"{r['rate']:.1f}"),
        ("ratio to hash ceiling", lambda r: f"{r['rate'] / ceiling:.2f}"),
        ("p50 / p99 (ms)", lambda r: f"{r['p50_ms']:.0f} / {r['p99_ms']:.0f}"),
        ("sign-ins / failures", lambda r: f"{r['total']} / {r['failures']}"),
        ("PG transactions per sign-in", lambda r: f"{r['transactions'] / max(r['total'], 1):.1f}"),
        ("CPU ms per sign-in", lambda r: f"{(r['cpu_server_s']) * 1000 / max(r['total'], 1):.1f}"),
        ("  of which PostgreSQL", lambda r: f"{r['cpu_database_s'] * 1000 / max(r['total'], 1):.1f}"),
        ("  client (not included)", lambda r: f"{r['client_cpu_s'] * 1000 / max(r['total'], 1):.1f}"),
    ]
    for name, fmt in rows:
        print(f"{name:30}" + "".join(f"{fmt(r):>14}" for r in results.values()))
    print(
        "\nCPU ms = gunicorn (master + workers) + this run's PostgreSQL backends, per whole sign-in; Redis excluded."
        f" One Argon2 verification: {hash_cpu_ms:.1f} ms of CPU, i.e. {1000 * (os.cpu_count() or 1) / hash_cpu_ms:.0f}"
        " sign-ins/s on idle cores."
    )
    for scenario, run in results.items():
        if run["failure_examples"]:
            print(f"{scenario} failures, e.g.: {run['failure_examples']}")
        run.pop("failure_examples")
    print(
        "\n" + json.dumps({"ceiling": [ceiling_before, ceiling_after], "hash_cpu_ms": hash_cpu_ms, "results": results})
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
