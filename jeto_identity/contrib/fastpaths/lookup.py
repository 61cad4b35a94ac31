"""An exact-match ORM lookup compiled once, for the few hot paths where compiling costs more than the query.

``Model.objects.filter(field=value).first()`` spends most of its CPU building SQL: for DOT's wide Application
model (about 30 columns), compiling takes about three times as long as the round trip it prepares. This keeps
the SQL that Django's compiler produced for the model, per database connection, and reuses it with each new value,
applying the same converters and building the instance with ``Model.from_db``, so the result is the instance
the ORM would have returned. Signals are not involved (a read sends none); the default manager's filtering is
not applied, so use it only on models whose default manager does not filter.

Leans on the SQL compiler's internals (``as_sql``, ``select``, ``get_converters``, ``apply_converters``).
"""

from __future__ import annotations

import weakref
from typing import Any, Generic, TypeVar

from django.db import connections
from django.db.models import Model

M = TypeVar("M", bound=Model)

_PROBE = "jeto-lookup-probe"


class ExactLookup(Generic[M]):
    def __init__(self, model: type[M], field_name: str, using: str = "default") -> None:
        self.model, self.using = model, using
        self.field = model._meta.get_field(field_name)
        # Per connection (one per thread): the converters hold the connection they were built for.
        self._plans: weakref.WeakKeyDictionary[Any, tuple[str, list[str], Any, list]] = weakref.WeakKeyDictionary()

    def _plan(self, connection: Any) -> tuple[str, list[str], Any, list]:
        plan = self._plans.get(connection)
        if plan is None:
            queryset = self.model._base_manager.using(self.using).filter(**{self.field.name: _PROBE})
            compiler = queryset.query.get_compiler(connection=connection)
            sql, params = compiler.as_sql()
            if list(params) != [self.field.get_db_prep_value(_PROBE, connection)]:
                raise ValueError(f"{self.model.__name__}.{self.field.name}: not a single-parameter lookup")
            names = [col.target.attname for col, _, _ in compiler.select]
            converters = compiler.get_converters([col for col, _, _ in compiler.select])
            plan = self._plans[connection] = (sql, names, compiler, converters)
        return plan

    def get(self, value: Any) -> M | None:
        """The row whose field equals ``value``, or None (the field should be unique)."""
        connection = connections[self.using]
        sql, names, compiler, converters = self._plan(connection)
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.field.get_db_prep_value(value, connection)])
            row = cursor.fetchone()
        if row is None:
            return None
        if converters:
            row = next(iter(compiler.apply_converters([row], converters)))
        return self.model.from_db(self.using, names, list(row))
