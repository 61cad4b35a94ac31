#!/usr/bin/env python
"""CPU per request of the portal's WSGI application, called in-process: no HTTP server, no load generator.

Drives ``config.wsgi.application`` directly (request_started/finished fire as under gunicorn) against the
benchmark database, and prints the process CPU time per request: the minimum and the median of 7 rounds. It
isolates the cost of the Python code path, so a change can be compared before/after on a noisy machine where
``token_endpoint.py``'s throughput moves with other tenants.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jeto_bench REDIS_URL=redis://127.0.0.1:6379/4 \\
      python benchmarks/in_process.py grant 2800        # or: api 7000, members 2800

``--profile cumtime`` (or ``tottime``) prints a cProfile listing instead.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.token_endpoint import env_for  # noqa: E402

ROUNDS = 7


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=["grant", "api", "members"])
    parser.add_argument("requests", type=int, nargs="?", default=2800)
    parser.add_argument("--profile", choices=["cumtime", "tottime"], default=None)
    args = parser.parse_args()

    database_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/jeto_bench")
    os.environ.update(env_for("config.settings", database_url, os.environ.get("REDIS_URL", "")))
    setup = subprocess.run(
        [sys.executable, "-m", "benchmarks.setup_data"], cwd=ROOT, check=True, capture_output=True, text=True
    )
    creds = json.loads(setup.stdout.strip().splitlines()[-1])["portal"]
    os.chdir(ROOT)
    from config.wsgi import application

    basic = "Basic " + base64.b64encode(f"{creds['client_id']}:{creds['client_secret']}".encode()).decode()

    def call(method: str, path: str, authorization: str, body: bytes = b"") -> tuple[str, bytes]:
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_AUTHORIZATION": authorization,
            "CONTENT_LENGTH": str(len(body)),
            "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "wsgi.version": (1, 0),
        }
        status: list[str] = []
        result = application(environ, lambda s, h, e=None: status.append(s))
        content = b"".join(result)
        result.close()  # sends request_finished, as a server does
        return status[0], content

    def grant() -> tuple[str, bytes]:
        return call("POST", "/o/token/", basic, b"grant_type=client_credentials")

    token = json.loads(grant()[1])["access_token"]
    request = {
        "grant": grant,
        "api": lambda: call("GET", "/api/v1/organization", f"Bearer {token}"),
        "members": lambda: call("GET", "/api/v1/members", f"Bearer {token}"),
    }[args.kind]
    for _ in range(50):
        status, content = request()
        assert status.startswith("200"), (status, content[:200])

    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(lambda: [request() for _ in range(args.requests)])
        pstats.Stats(profiler).sort_stats(args.profile).print_stats(40)
        return 0
    per_round = max(1, args.requests // ROUNDS)
    costs = []
    for _ in range(ROUNDS):
        started = time.process_time()
        for _ in range(per_round):
            request()
        costs.append(1000 * (time.process_time() - started) / per_round)
    costs.sort()
    print(
        f"{args.kind}: CPU per request {costs[0]:.3f} ms (min of {ROUNDS} rounds), median {costs[ROUNDS // 2]:.3f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
