"""SQL for the hottest reads of a sign-in, written once per database vendor from the models' metadata.

The ORM compiles a query again for every request that runs it; for the few reads every sign-in makes (the user by
email, the organisation owning a verified domain, the user's factors and organisations) that compilation costs
several times the CPU of running the query. These reads go through ``Model.objects.raw()`` with SQL built here
once: table and column names come from ``_meta`` (a renamed column follows), values are always parameters, and
``raw()`` converts each value as the ORM does (SQLite's dates included). Each has a test comparing it with the ORM
query it replaces. The SQL is written for the default database's vendor: a project routing these models to a
database of another vendor would need it written per alias.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection as default_connection

Quote = Callable[[str], str]
_WRITTEN: dict[tuple[str, str], str] = {}


def written_once(name: str, write: Callable[[Quote], str], connection: Any = default_connection) -> str:
    """The SQL ``write(quote_name)`` returns for ``connection``'s vendor (the default database's unless given),
    written on first use."""
    key = (name, connection.vendor)
    sql = _WRITTEN.get(key)
    if sql is None:
        sql = _WRITTEN[key] = write(connection.ops.quote_name)
    return sql


def columns(model: type, alias: str, quote: Quote) -> str:
    """Every concrete column of ``model`` for a SELECT (``raw()`` then defers nothing)."""
    return ", ".join(f"{alias}.{quote(field.column)}" for field in model._meta.concrete_fields)


def column(model: type, field: str, quote: Quote) -> str:
    return quote(model._meta.get_field(field).column)
