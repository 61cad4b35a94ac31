#!/usr/bin/env python
"""Side-by-side benchmark: the portal with and without its opt-in fast paths vs a stock django-oauth-toolkit setup.

For each configuration it starts gunicorn itself (same worker settings, same middleware, PostgreSQL), loads it
from this machine with ``wrk`` over keep-alive connections on 127.0.0.1, and reports

- client-credentials grants/s at /o/token/ (client_secret_basic),
- bearer-authenticated API requests/s at /api/v1/organization (the portal answers it from the token cache) and
  at /api/v1/members (a page of 25 members: two queries per request on both sides),
- p50/p99 latency for each, and
- how long after a revocation the revoked token was still accepted by any worker.

Usage (needs PostgreSQL, and wrk: ``apt-get install -y wrk``)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jeto_bench python benchmarks/token_endpoint.py

Options: --duration SECONDS (10), --connections N (4), --workers N (2 per CPU), --worker-class gthread|sync (gthread),
--threads N (1), --only portal|no-fastpaths|stock, --no-fastpaths (skip the portal with them on), --recreate,
--prefill N (live tokens in the table first).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
# (label, key, settings module, environment): the portal with the fast paths (jeto_identity.contrib.fastpaths), the
# same portal on the stock libraries only, and stock DOT (benchmarks/stock_settings.py, no fast paths either).
CONFIGS = [
    ("portal", "portal", "config.settings", {"JETO_FASTPATHS": "true"}),
    ("portal, no fast paths", "no-fastpaths", "config.settings", {"JETO_FASTPATHS": "false"}),
    ("stock DOT", "stock", "benchmarks.stock_settings", {}),
]
REVOKE_PATHS = {"portal": "/o/revoke/", "stock": "/o/revoke_token/"}  # the portal's path; DOT's stock path


def signing_key_file(directory: str) -> str:
    """A throwaway RSA key: the portal refuses to start without an OIDC signing key unless DEBUG."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = Path(directory) / "oidc.pem"
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(path)


_KEY_DIR = tempfile.TemporaryDirectory()


def env_for(settings_module: str, database_url: str, redis_url: str) -> dict[str, str]:
    env = dict(os.environ)
    if "OIDC_RSA_PRIVATE_KEY" not in env and "OIDC_RSA_PRIVATE_KEY_FILE" not in env:
        env["OIDC_RSA_PRIVATE_KEY_FILE"] = signing_key_file(_KEY_DIR.name)
    env.update(
        DJANGO_SETTINGS_MODULE=settings_module,
        DATABASE_URL=database_url,
        SECRET_KEY="benchmark-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        LOG_LEVEL="WARNING",
        SECURE_COOKIES="false",
        SECURE_HSTS_SECONDS="0",
        PYTHONPATH=str(ROOT),
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def ensure_database(database_url: str, recreate: bool = False) -> None:
    import psycopg

    parsed = urllib.parse.urlparse(database_url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        if recreate:
            if "bench" not in name:
                raise SystemExit(f"--recreate only drops a database whose name contains 'bench', not {name!r}.")
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def http(method: str, url: str, *, headers: dict | None = None, data: bytes | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def basic(client_id: str, client_secret: str) -> str:
    raw = f"{urllib.parse.quote_plus(client_id)}:{urllib.parse.quote_plus(client_secret)}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def get_token(base: str, creds: dict) -> str:
    status, body = http(
        "POST",
        f"{base}/o/token/",
        headers={"Authorization": basic(**creds), "Content-Type": "application/x-www-form-urlencoded"},
        data=b"grant_type=client_credentials",
    )
    assert status == 200, (status, body)
    return json.loads(body)["access_token"]


class Gunicorn:
    def __init__(self, env: dict, port: int, workers: int, threads: int, worker_class: str) -> None:
        self.env, self.port, self.workers, self.threads, self.worker_class = env, port, workers, threads, worker_class
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> str:
        args = [PY, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{self.port}"]
        args += ["--workers", str(self.workers), "--log-level", "warning", "--keep-alive", "5"]
        args += ["--worker-class", self.worker_class]
        if self.worker_class == "gthread":
            args += ["--threads", str(self.threads)]
        self.log = tempfile.TemporaryFile()  # gunicorn's and Django's output (401s while probing revocation)
        self.proc = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                http("GET", f"{base}/o/token/")
                return base
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def __exit__(self, *exc) -> None:
        assert self.proc is not None
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime


def _children(ppid: int) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == ppid:
                pids.append(int(stat.parent.name))
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
    return pids


def _pg_backends(database_url: str) -> list[int]:
    import psycopg

    name = urllib.parse.urlparse(database_url).path.lstrip("/")
    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (name,)
        ).fetchall()
    return [r[0] for r in rows]


class CpuMeter:
    """CPU seconds spent by gunicorn (master + workers), this benchmark's PostgreSQL backends and wrk.

    Other tenants of the machine do not count, so CPU per request is a contention-independent cost.
    """

    def __init__(self, master_pid: int, database_url: str) -> None:
        self.master, self.database_url = master_pid, database_url

    def _sample(self) -> dict[int, float]:
        self.database_pids = set(_pg_backends(self.database_url))
        pids = [self.master, *_children(self.master), *self.database_pids]
        return {pid: _cpu_seconds(pid) for pid in pids}

    def __enter__(self) -> CpuMeter:
        self.before = self._sample()
        self.wrk_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        return self

    def __exit__(self, *exc) -> None:
        after = self._sample()
        wrk_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.server = sum(cpu - self.before.get(pid, 0.0) for pid, cpu in after.items())
        self.database = sum(cpu - self.before.get(pid, 0.0) for pid, cpu in after.items() if pid in self.database_pids)
        self.load = (wrk_after.ru_utime + wrk_after.ru_stime) - (self.wrk_before.ru_utime + self.wrk_before.ru_stime)

    def measure(self, run: Callable[..., dict], *args: Any, **kwargs: Any) -> dict:
        """``run(*args, **kwargs)``'s result with the CPU it cost added (seconds: server, database, load)."""
        with self:
            result = run(*args, **kwargs)
        result.update(cpu_server_s=self.server, cpu_database_s=self.database, cpu_load_s=self.load)
        return result


def wrk(url: str, duration: int, connections: int, script: str | None = None, headers: list[str] = ()) -> dict:
    args = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s"]
    for h in headers:
        args += ["-H", h]
    if script:
        args += ["-s", script]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    pct = {}
    for label in ("50%", "99%"):
        m = re.search(rf"^\s+{re.escape(label)}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        pct[label] = float(m.group(1)) * _UNITS[m.group(2)] if m else float("nan")
    return {
        "rps": rps,
        "total": total,
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(1) if errors else "",
        "p50_ms": pct["50%"],
        "p99_ms": pct["99%"],
    }


def token_script(creds: dict, directory: str) -> str:
    path = Path(directory) / "token.lua"
    path.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
        f'wrk.headers["Authorization"] = "{basic(**creds)}"\n'
        'wrk.body = "grant_type=client_credentials"\n'
    )
    return str(path)


def revocation_lag(base: str, creds: dict, revoke_path: str, window: float = 2.0) -> float:
    """Seconds after the revocation response during which any worker still accepted the token."""
    token = get_token(base, creds)
    auth = {"Authorization": f"Bearer {token}"}
    for _ in range(40):  # warm every worker's cache with this token
        assert http("GET", f"{base}/api/v1/organization", headers=auth)[0] == 200
    status, _ = http(
        "POST",
        f"{base}{revoke_path}",
        headers={"Authorization": basic(**creds), "Content-Type": "application/x-www-form-urlencoded"},
        data=urllib.parse.urlencode({"token": token}).encode(),
    )
    assert status == 200, status
    revoked_at = time.monotonic()
    last_accepted = 0.0
    while time.monotonic() - revoked_at < window:
        if http("GET", f"{base}/api/v1/organization", headers=auth)[0] == 200:
            last_accepted = time.monotonic() - revoked_at
        time.sleep(0.005)
    return last_accepted


def _cpu_ms(run: dict) -> float:
    return (run["cpu_server_s"] + run["cpu_load_s"]) * 1000 / max(run["total"], 1)


def _per(run: dict) -> str:
    per = 1000 / max(run["total"], 1)
    return f"{_cpu_ms(run):.2f} (db {run['cpu_database_s'] * per:.2f}, wrk {run['cpu_load_s'] * per:.2f})"


def _projected(run: dict) -> str:
    return f"{2 * 1000 / _cpu_ms(run):.0f}" if _cpu_ms(run) > 0 else "n/a"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1))  # two per core
    parser.add_argument("--worker-class", choices=["gthread", "sync"], default="gthread")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--only", choices=[key for _, key, _, _ in CONFIGS], default=None)
    parser.add_argument("--no-fastpaths", action="store_true", help="skip the portal with the fast paths on")
    parser.add_argument("--recreate", action="store_true", help="drop and recreate the (…bench…) database first")
    parser.add_argument("--prefill", type=int, default=0, help="live access tokens to put in the table first")
    args = parser.parse_args()

    database_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/jeto_bench")
    redis_url = os.environ.get("REDIS_URL", "")
    if not database_url.startswith("postgres"):
        print("Set DATABASE_URL to a PostgreSQL database (the benchmark's own).", file=sys.stderr)
        return 2
    if not shutil.which("wrk"):
        print("wrk is needed: apt-get install -y wrk", file=sys.stderr)
        return 2
    ensure_database(database_url, recreate=args.recreate)
    portal_env = env_for("config.settings", database_url, redis_url)
    subprocess.run(
        [PY, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=portal_env, check=True, capture_output=True
    )
    setup = subprocess.run(
        [PY, "-m", "benchmarks.setup_data", "--prefill", str(args.prefill)],
        cwd=ROOT,
        env=portal_env,
        check=True,
        capture_output=True,
        text=True,
    )
    creds = json.loads(setup.stdout.strip().splitlines()[-1])
    tokens_before = creds.pop("tokens_in_table")

    results = {}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        for label, key, settings_module, extra_env in CONFIGS:
            if (args.only and args.only != key) or (args.no_fastpaths and key == "portal"):
                continue
            env = {**env_for(settings_module, database_url, redis_url), **extra_env}
            key = "stock" if key == "stock" else "portal"  # the client and revocation path it uses
            server = Gunicorn(env, args.port, args.workers, args.threads, args.worker_class)
            with server as base:
                token = get_token(base, creds[key])
                for _ in range(20):
                    http("GET", f"{base}/api/v1/organization", headers={"Authorization": f"Bearer {token}"})
                meter = CpuMeter(server.proc.pid, database_url)
                bearer = [f"Authorization: Bearer {token}"]
                grants = meter.measure(
                    wrk, f"{base}/o/token/", args.duration, args.connections, token_script(creds[key], tmp)
                )
                api = meter.measure(wrk, f"{base}/api/v1/organization", args.duration, args.connections, headers=bearer)
                members = meter.measure(wrk, f"{base}/api/v1/members", args.duration, args.connections, headers=bearer)
                lag = revocation_lag(base, creds[key], REVOKE_PATHS[key])
            results[label] = {"grants": grants, "api": api, "members": members, "revocation_lag_s": lag}
            print(f"{label}: done", file=sys.stderr, flush=True)

    worker = f"{args.workers} x {'gthread/' + str(args.threads) if args.worker_class == 'gthread' else 'sync'}"
    print(f"\ngunicorn {worker} workers, wrk {args.connections} connections, {args.duration}s per run, 127.0.0.1")
    print(f"{os.cpu_count()} CPUs; load average before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f}")
    print(f"access tokens in the table when the run started: {tokens_before:,}\n")
    header = f"{'':28}" + "".join(f"{label:>32}" for label in results)
    print(header)
    rows = [
        ("grants/s", lambda r: f"{r['grants']['rps']:.0f}"),
        ("grant p50 / p99 (ms)", lambda r: f"{r['grants']['p50_ms']:.1f} / {r['grants']['p99_ms']:.1f}"),
        ("grant non-2xx", lambda r: str(r["grants"]["non_2xx"])),
        ("API requests/s", lambda r: f"{r['api']['rps']:.0f}"),
        ("API p50 / p99 (ms)", lambda r: f"{r['api']['p50_ms']:.2f} / {r['api']['p99_ms']:.2f}"),
        ("API non-2xx", lambda r: str(r["api"]["non_2xx"])),
        ("members API requests/s", lambda r: f"{r['members']['rps']:.0f}"),
        ("members p50 / p99 (ms)", lambda r: f"{r['members']['p50_ms']:.2f} / {r['members']['p99_ms']:.2f}"),
        ("members non-2xx", lambda r: str(r["members"]["non_2xx"])),
        ("revoked token accepted for", lambda r: f"{r['revocation_lag_s'] * 1000:.0f} ms"),
        ("CPU ms per grant", lambda r: _per(r["grants"])),
        ("CPU ms per API request", lambda r: _per(r["api"])),
        ("CPU ms per members request", lambda r: _per(r["members"])),
        ("grants/s at 2 idle cores*", lambda r: _projected(r["grants"])),
        ("API req/s at 2 idle cores*", lambda r: _projected(r["api"])),
    ]
    for name, fmt in rows:
        print(f"{name:28}" + "".join(f"{fmt(r):>32}" for r in results.values()))
    print(
        "\nCPU ms = gunicorn + this run's PostgreSQL backends (db) + wrk, per request (other load, Redis included,"
        " excluded).\n"
        "* projection: 2 cores x 1000 ms / (CPU ms per request); an estimate for an otherwise idle machine."
    )
    print("\n" + json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
