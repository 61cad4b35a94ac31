"""The pool's health check skips connections returned healthy moments ago (the fast paths' PostgreSQL backend)."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from psycopg_pool import ConnectionPool

from jeto_identity.contrib.fastpaths.postgresql.pool import FreshConnections
from tests.requirements import require_postgresql


class Conn:
    """A stand-in for a psycopg connection (weak-referenceable, as psycopg's are)."""


def test_a_connection_returned_moments_ago_is_lent_without_a_round_trip():
    fresh = FreshConnections(recent_seconds=0.5)
    conn = Conn()
    with mock.patch.object(ConnectionPool, "check_connection") as check:
        fresh.check(conn)  # never noted (new): checked
        assert check.call_count == 1
        fresh.note_returned(conn)
        fresh.check(conn)  # back a moment ago: lent as it is
        assert check.call_count == 1
        fresh.check(conn)  # lent again without coming back in between: checked again
        assert check.call_count == 2


def test_a_connection_idle_for_longer_is_checked(monkeypatch):
    fresh = FreshConnections(recent_seconds=0.5)
    conn = Conn()
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    with mock.patch.object(ConnectionPool, "check_connection") as check:
        fresh.note_returned(conn)
        now[0] += 0.6
        fresh.check(conn)
    assert check.call_count == 1


def test_after_a_failure_every_connection_is_checked_again():
    fresh = FreshConnections(recent_seconds=60)
    first, second = Conn(), Conn()
    fresh.note_returned(first)
    fresh.note_returned(second)
    fresh.forget_all()  # one of the pool's connections failed: the database may have restarted
    with mock.patch.object(ConnectionPool, "check_connection") as check:
        fresh.check(first)
        fresh.check(second)
    assert check.call_count == 2


def test_a_failed_check_is_the_pools_to_handle():
    with mock.patch.object(ConnectionPool, "check_connection", side_effect=OSError("gone")):
        with pytest.raises(OSError):
            FreshConnections().check(Conn())


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_dead_idle_connection_is_replaced_and_a_fresh_one_is_not_checked():
    require_postgresql()
    from django.db import connection

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("prepare_threshold", None)
    params.pop("context", None)
    fresh = FreshConnections(0.2)
    with ConnectionPool(kwargs=params, min_size=1, max_size=1, open=True, check=fresh.check) as pool:
        with pool.connection() as conn:
            pid = conn.info.backend_pid
            fresh.note_returned(conn)
        with mock.patch.object(ConnectionPool, "check_connection", wraps=ConnectionPool.check_connection) as check:
            with pool.connection() as conn:  # returned a moment ago: no round trip
                assert conn.info.backend_pid == pid
            assert check.call_count == 0
        with connection.cursor() as cursor:  # the database ends that idle connection
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        time.sleep(0.3)
        with pool.connection() as conn:  # idle longer than the window: checked, found dead, replaced
            assert conn.execute("SELECT 1").fetchone() == (1,)
            assert conn.info.backend_pid != pid


@pytest.mark.django_db(transaction=True)
def test_the_fast_paths_backend_gives_djangos_pool_the_check_that_skips_fresh_connections(settings):
    require_postgresql()
    from django.db import connection

    if "fastpaths" not in settings.DATABASES["default"]["ENGINE"] or "pool" not in connection.settings_dict["OPTIONS"]:
        pytest.fail("the portal runs PostgreSQL through the fast paths backend with Django's pool")
    pool = connection.pool
    assert pool._check is not ConnectionPool.check_connection  # psycopg_pool's private names: see the backend
    assert pool._check.__qualname__ == "FreshConnections.check"
    seconds = float(connection.settings_dict["JETO_POOL_CHECK_IDLE_SECONDS"])
    connection.close()
    with mock.patch.object(ConnectionPool, "check_connection", wraps=ConnectionPool.check_connection) as check:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        pid, first = connection.connection.info.backend_pid, check.call_count
        connection.close()  # back to the pool with no error: noted
        with connection.cursor() as cursor:  # borrowed again at once: no round trip for that connection
            cursor.execute("SELECT 1")
        assert check.call_count == first or connection.connection.info.backend_pid != pid
        calls = check.call_count
        connection.close()
        time.sleep(seconds + 0.1)
        with connection.cursor() as cursor:  # idle for longer: checked
            cursor.execute("SELECT 1")
        assert check.call_count == calls + 1


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_failed_connection_makes_the_pool_check_every_connection_again():
    require_postgresql()
    import psycopg
    from django.db import OperationalError, connection

    connection.close()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    connection.close()  # back in the pool, healthy: noted
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    params = connection.get_connection_params()
    for key in ("cursor_factory", "prepare_threshold", "context"):
        params.pop(key, None)
    with psycopg.connect(**params, autocommit=True) as other:  # the database ends the backend in use
        other.execute("SELECT pg_terminate_backend(%s)", [connection.connection.info.backend_pid])
    with pytest.raises(OperationalError):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    assert connection.errors_occurred
    with mock.patch.object(ConnectionPool, "check_connection", wraps=ConnectionPool.check_connection) as check:
        connection.close()  # the failure: every connection is checked before it is lent again
        with connection.cursor() as cursor:  # borrowed at once, yet checked
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)
        assert check.call_count >= 1
