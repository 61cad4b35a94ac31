"""Helpers for tests that run the portal as real server processes (gunicorn) against PostgreSQL and Redis."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.processes import ServerProcess, free_port
from tests.requirements import missing

ROOT = Path(__file__).resolve().parents[2]
SECRET = "two-node-test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz-0123"


def require_postgres_and_redis() -> tuple[str, str]:
    """DATABASE_URL (PostgreSQL) and REDIS_URL, or skip locally / fail in CI with what to set."""
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if database_url.startswith(("postgres://", "postgresql://")) and redis_url.startswith("redis://"):
        return database_url, redis_url
    message = (
        "needs PostgreSQL and Redis shared by the server processes: set DATABASE_URL=postgres://... and "
        f"REDIS_URL=redis://... (got DATABASE_URL={database_url.split('@')[-1] or 'unset'!r}, "
        f"REDIS_URL={'set' if redis_url else 'unset'})"
    )
    missing(message)


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


@contextlib.contextmanager
def scratch_postgres(database_url: str, label: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for server processes; dropped afterwards."""
    import psycopg

    name = f"{urlsplit(database_url).path.lstrip('/') or 'jeto'}_{label}_{uuid.uuid4().hex[:8]}"
    admin_url = with_database(database_url, "postgres")
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = with_database(database_url, name)
    try:
        manage("migrate", "--noinput", env={"DATABASE_URL": url})
        yield url
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def portal_env(**extra: str) -> dict[str, str]:
    drop = {"DJANGO_SETTINGS_MODULE", "PYTHONPATH", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(
        SECRET_KEY=SECRET,
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_COOKIES="false",
        SECURE_HSTS_SECONDS="0",
        DJANGO_SETTINGS_MODULE="config.settings",
        LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=portal_env(**env),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


class Server(ServerProcess):
    """One gunicorn portal process on a free loopback port."""

    def __init__(self, env: dict[str, str]) -> None:
        port = free_port()
        super().__init__(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--timeout",
                "30",
            ],
            port=port,
            cwd=ROOT,
            env=portal_env(**env),
            log_path=ROOT / "var" / f"server-{port}.log",
        )


@contextlib.contextmanager
def servers(count: int, env: dict[str, str]) -> Iterator[list[Server]]:
    started = [Server(env) for _ in range(count)]
    try:
        for server in started:
            server.wait_ready()
        yield started
    finally:
        for server in started:
            server.stop()


class TcpRelay:
    """A loopback TCP relay we can cut and restore: "the database went away" without touching the database."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """Refuse new connections and kill the open ones."""
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close() alone doesn't
            self._listener.close()
            self._listener = None
        with self._lock:
            for conn in self._conns:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                    conn.close()
            self._conns.clear()

    restore = start
