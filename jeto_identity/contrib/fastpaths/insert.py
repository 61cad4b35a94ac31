"""``instance.save()`` for a new row, with the INSERT compiled once per database connection.

For the same reason as ``lookup.ExactLookup``: on the token endpoint, compiling the INSERT of DOT's AccessToken
costs more CPU than sending it. ``FastInsert.save(obj)`` does what ``Model.save()`` does for a new instance of a
plain model (no parent models, no generated fields): the related-object check, each field's ``pre_save``
(``auto_now``, DOT's token checksum), ``get_db_prep_save``, ``pre_save``/``post_save`` signals, and the
primary key read back. Anything it does not handle the same way (an expression as a value, a field with its own
placeholder) goes through ``obj.save()``.

Leans on ``InsertQuery`` and its compiler, ``Model._prepare_related_fields_for_save`` and ``Model._state``.
"""

from __future__ import annotations

import weakref
from typing import Any, Generic, TypeVar

from django.db import connections
from django.db.models import Model
from django.db.models.signals import post_save, pre_save
from django.db.models.sql import InsertQuery

M = TypeVar("M", bound=Model)


class FastInsert(Generic[M]):
    def __init__(self, model: type[M], using: str = "default") -> None:
        meta = model._meta
        if meta.parents or any(f.generated for f in meta.local_concrete_fields):
            raise ValueError(f"{model.__name__}: FastInsert handles plain models only")
        self.model, self.using = model, using
        self.fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field]
        self.returning = list(meta.db_returning_fields)
        self._plans: weakref.WeakKeyDictionary[Any, tuple[str, Any]] = weakref.WeakKeyDictionary()

    def _plan(self, connection: Any) -> tuple[str, Any] | None:
        plan = self._plans.get(connection)
        if plan is None:
            if any(hasattr(f, "get_placeholder") for f in self.fields):
                return None
            query = InsertQuery(self.model)
            query.insert_values(self.fields, [self.model()], raw=True)
            compiler = query.get_compiler(connection=connection)
            compiler.returning_fields = self.returning
            statements = compiler.as_sql()
            if len(statements) != 1 or statements[0][0].count("%s") != len(self.fields):
                return None
            plan = self._plans[connection] = (statements[0][0], getattr(compiler, "returning_params", ()))
        return plan

    def save(self, obj: M, *, asynchronous_commit: bool = False) -> M:
        """Insert ``obj``. ``asynchronous_commit``: on PostgreSQL with psycopg 3 and outside any transaction, the
        row's one-statement transaction commits without waiting for its WAL flush (``SET LOCAL
        synchronous_commit TO OFF`` sent with the INSERT, one round trip); elsewhere it is ignored."""
        connection = connections[self.using]
        plan = self._plan(connection)
        if (
            plan is None
            or not obj._state.adding
            or obj.pk is not None
            or any(hasattr(getattr(obj, f.attname), "resolve_expression") for f in self.fields)  # db_default…
        ):
            obj.save(using=self.using)
            return obj
        sql, returning_params = plan
        obj._prepare_related_fields_for_save(operation_name="save")
        pre_save.send(sender=self.model, instance=obj, raw=False, using=self.using, update_fields=None)
        params = [f.get_db_prep_save(f.pre_save(obj, True), connection=connection) for f in self.fields]
        relaxed = asynchronous_commit and _can_relax_commit(connection)
        with connection.cursor() as cursor:
            if relaxed:
                # A simple-protocol query string of two statements runs as one implicit transaction, so SET LOCAL
                # applies to this INSERT only and ends with it.
                cursor.execute(f"SET LOCAL synchronous_commit TO OFF; {sql}", params)
                cursor.nextset()
            else:
                cursor.execute(sql, params)
            if connection.features.can_return_columns_from_insert:
                values = connection.ops.fetch_returned_insert_columns(cursor, returning_params)
            else:
                pk = self.model._meta.pk
                values = (connection.ops.last_insert_id(cursor, self.model._meta.db_table, pk.column),)
        for value, field in zip(values, self.returning, strict=False):
            setattr(obj, field.attname, value)
        obj._state.adding = False
        obj._state.db = self.using
        post_save.send(sender=self.model, instance=obj, created=True, update_fields=None, raw=False, using=self.using)
        return obj


def _can_relax_commit(connection: Any) -> bool:
    """PostgreSQL through psycopg 3's client-side binding (Django's default), in autocommit, outside atomic()."""
    if connection.vendor != "postgresql" or connection.in_atomic_block or not connection.get_autocommit():
        return False
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    return is_psycopg3 and connection.settings_dict.get("OPTIONS", {}).get("server_side_binding") is not True
