"""What a test needs from the machine: a skip on a newcomer's laptop, a failure in CI (never a silent skip there)."""

from __future__ import annotations

import os

import pytest
from django.db import connection


def missing(message: str) -> None:
    """Fail when CI is set, else skip: CI always provides PostgreSQL, Redis and the browser."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def require_postgresql(why: str = "needs PostgreSQL") -> None:
    if connection.vendor != "postgresql":
        missing(f"{why}: set DATABASE_URL=postgres://... (CI runs it)")


def require_redis() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url.startswith("redis://"):
        missing("needs Redis: set REDIS_URL=redis://... (CI runs it)")
    return url
