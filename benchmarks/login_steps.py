"""Where a password sign-in's CPU goes, step by step, in one process (no HTTP server, no client).

``benchmarks/login.py`` measures whole sign-ins from outside; this script shows what each of the three requests
costs the web process and what each optional part of a sign-in adds, to decide what to work on next. It calls the
portal's WSGI application directly (portal settings, ``DEBUG=false``, PostgreSQL and Redis, the fast paths as the
portal has them) with the benchmark's users, one sign-in after the other, and measures the thread's CPU time of

- GET /login/ (the email page), POST /login/ (the email), POST /login/password/ (the password),
- the Argon2 verification inside the password step (timed around argon2-cffi's ``verify_secret``), shown apart.

``--without`` takes parts out *for the measurement only* (it patches this process; nothing is changed on disk):
``audit`` (the sign-in's audit event), ``registry`` (the session registry row and device cookie), ``last-login``
(Django's ``update_last_login``), ``stages`` (the MFA stage and SSO link confirmation), ``enforce`` (the password
step's "SSO enforced?" check), ``route`` (the email step's SSO router). The difference to a run without
``--without`` is what that part costs. Statements are counted with a database execute wrapper.

Usage (after ``benchmarks/login.py`` has created its users in the same database)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jeto_bench_login REDIS_URL=redis://127.0.0.1:6379/10 \\
      .venv/bin/python benchmarks/login_steps.py [--sign-ins 300] [--without audit,registry]
"""

from __future__ import annotations

import argparse
import io
import os
import re
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.login import DOMAIN, PASSWORD  # noqa: E402
from benchmarks.token_endpoint import env_for  # noqa: E402

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
PARTS = ("audit", "registry", "last-login", "stages", "enforce", "route")


class Steps:
    """The three requests of a sign-in through the WSGI application, with a cookie jar per sign-in."""

    def __init__(self, application) -> None:
        self.application = application
        self.cpu = {"GET /login/": 0.0, "POST /login/": 0.0, "POST /login/password/": 0.0}
        self.statements = dict.fromkeys(self.cpu, 0)
        self.current = ""

    def call(self, method: str, path: str, cookies: dict[str, str], form: dict[str, str] | None = None):
        body = urllib.parse.urlencode(form).encode() if form is not None else b""
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "127.0.0.1:8000",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_USER_AGENT": "login-steps/1.0",
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "wsgi.version": (1, 0),
        }
        if cookies:
            environ["HTTP_COOKIE"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        if form is not None:
            environ["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
            environ["CONTENT_LENGTH"] = str(len(body))
        answer: dict = {}

        def start_response(status: str, headers: list, exc_info=None) -> None:
            answer["status"], answer["headers"] = int(status.split()[0]), headers

        self.current = f"{method} {path}"
        started = time.thread_time()
        response = self.application(environ, start_response)
        content = b"".join(response)
        response.close()
        self.cpu[self.current] += time.thread_time() - started
        for name, value in answer["headers"]:
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                if "expires=Thu, 01 Jan 1970" in value:
                    cookies.pop(key, None)
                else:
                    cookies[key] = rest.split(";")[0]
        return answer["status"], content

    def sign_in(self, email: str) -> None:
        cookies: dict[str, str] = {}
        status, page = self.call("GET", "/login/", cookies)
        assert status == 200, status
        csrf = CSRF_INPUT.search(page.decode()).group(1)
        status, _ = self.call("POST", "/login/", cookies, {"csrfmiddlewaretoken": csrf, "email": email, "next": ""})
        assert status == 302, status
        status, _ = self.call("POST", "/login/password/", cookies, {"csrfmiddlewaretoken": csrf, "password": PASSWORD})
        assert status == 302, f"{email}: {status}"


def take_out(parts: list[str]) -> None:
    """Remove parts of a sign-in from this process, for the measurement only."""
    from django.contrib.auth.models import update_last_login
    from django.contrib.auth.signals import user_logged_in

    from jeto_identity.login import services as login_service
    from jeto_identity.models import User
    from jeto_identity.sso import services as sso_service

    for part in parts:
        if part == "audit":
            user_logged_in.disconnect(sender=User, dispatch_uid="jeto_audit_logged_in")
        elif part == "registry":
            user_logged_in.disconnect(sender=User, dispatch_uid="jeto_sessions_logged_in")
        elif part == "last-login":
            user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
        elif part == "stages":
            login_service.stages = lambda: []
        elif part == "enforce":
            sso_service.password_login_allowed = lambda *args: True
        elif part == "route":
            login_service.route_email = lambda *args: None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sign-ins", type=int, default=300)
    parser.add_argument("--warm-up", type=int, default=20)
    parser.add_argument("--first-user", type=int, default=0, help="pw<N>@ of the benchmark's users")
    parser.add_argument("--without", default="", help=f"comma-separated, of: {', '.join(PARTS)}")
    args = parser.parse_args()
    parts = [p for p in args.without.split(",") if p]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown parts: {sorted(unknown)}")
    database_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/jeto_bench_login")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/10")
    os.environ.update({**env_for("config.settings", database_url, redis_url), "JETO_FASTPATHS": "true"})
    import logging

    import argon2._password_hasher as argon2_hasher
    import redis

    from config.wsgi import application

    # The audit log's JSON lines would flood the output; they are still formatted (``logger.info`` is called).
    for handler in logging.getLogger("jeto_identity.audit").handlers:
        handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 - for the life of the process
    redis.Redis.from_url(redis_url).flushdb()  # throttle counters of earlier runs
    hashing = [0.0]
    verify_secret = argon2_hasher.verify_secret

    def timed_verify(*args, **kwargs):
        started = time.thread_time()
        try:
            return verify_secret(*args, **kwargs)
        finally:
            hashing[0] += time.thread_time() - started

    argon2_hasher.verify_secret = timed_verify
    take_out(parts)
    from django.db import connection

    steps = Steps(application)

    def count(execute, sql, params, many, context):
        steps.statements[steps.current] += 1
        return execute(sql, params, many, context)

    users = [f"pw{n:05d}@{DOMAIN}" for n in range(args.first_user, args.first_user + args.warm_up + args.sign_ins)]
    for email in users[: args.warm_up]:
        steps.sign_in(email)
    steps.cpu = dict.fromkeys(steps.cpu, 0.0)
    steps.statements = dict.fromkeys(steps.cpu, 0)
    hashing[0] = 0.0
    with connection.execute_wrapper(count):
        for email in users[args.warm_up :]:
            steps.sign_in(email)
    n = args.sign_ins
    print(f"{n} password sign-ins in one process, {'without ' + ', '.join(parts) if parts else 'every part on'}")
    for step, cpu in steps.cpu.items():
        own = cpu - (hashing[0] if step.endswith("password/") else 0.0)
        note = f" (+ Argon2 {1000 * hashing[0] / n:.2f} ms)" if step.endswith("password/") else ""
        print(f"  {step:24s} {1000 * own / n:6.2f} ms CPU{note}, {steps.statements[step] / n:.1f} statements")
    total, statements = sum(steps.cpu.values()) - hashing[0], sum(steps.statements.values())
    print(f"  {'a sign-in besides Argon2':24s} {1000 * total / n:6.2f} ms CPU, {statements / n:.1f} statements")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
