"""Database sessions in fewer statements: ``SESSION_ENGINE = "jeto_identity.contrib.fastpaths.sessions"``.

The same table, rows and encoding as Django's ``django.contrib.sessions.backends.db`` (switching either way
keeps every signed-in session), written with fewer round trips:

- **no existence check before a new key**: a 32-character key from a 36-symbol alphabet (165 bits) is
  reserved by the ``INSERT`` itself; the primary key refuses a collision and a new key is drawn, as Django's
  ``create()`` already does when its check races;
- **no ``BEGIN``/``COMMIT`` around a single statement** outside a transaction: in autocommit one ``INSERT`` or
  ``UPDATE`` is atomic by itself; inside ``atomic()`` a savepoint still protects the caller's transaction;
- **the key rotated by ``login()`` is moved in one statement**: ``cycle_key()`` draws the new key at once, as
  Django does, and the response's save moves the row to it with the signed-in data (one ``UPDATE`` of the key,
  the data and the expiry), instead of a ``DELETE`` and an ``INSERT`` now and an ``UPDATE`` at the end of the
  request. The old key never reaches the browser again and, once the row has moved, names nothing. A request that
  is not saved (an error answer, or a session left empty) leaves the old row as it was before the request: it
  never holds what the request added (the sign-in), and it expires with its age (``login.services.advance``
  retires it at once when a stage or the sign-in itself raises). A session cycled and then flushed deletes the
  old row too;
- **a session is written with SQL compiled once** (its ``INSERT``, ``UPDATE`` and the move). When the model has
  other columns or something listens to its saves, the ORM writes it and a rotation deletes the old row and inserts
  the new one, as Django's engine does, so the listeners get every signal;
- **a session is read with SQL compiled once** (``lookup.ExactLookup`` by key, the expiry compared in Python as
  the database would), not compiled again for every request that reads it;
- **a deleted session is one ``DELETE``**, not a ``SELECT``, ``BEGIN``, ``DELETE``, ``COMMIT`` (Django's delete,
  with its signals, when something listens to ``pre_delete``/``post_delete`` of the session model).

Leans on ``SessionBase``'s private ``_session_key`` and ``_session_cache``;
``tests/identity/test_fastpaths_sessions.py`` checks the behaviour against Django's engine.
"""

from __future__ import annotations

import contextlib
from typing import Any

from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError, UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import DatabaseError, IntegrityError, connections, router, transaction
from django.db.models import signals
from django.utils import timezone
from django.utils.crypto import get_random_string

from jeto_identity.contrib.fastpaths.lookup import ExactLookup
from jeto_identity.core import sql

KEY_LENGTH = 32

_LOOKUPS: dict[tuple[type, str], ExactLookup] = {}


def _by_key(model: type, using: str) -> ExactLookup:
    lookup = _LOOKUPS.get((model, using))
    if lookup is None:
        lookup = _LOOKUPS[(model, using)] = ExactLookup(model, "session_key", using=using)
    return lookup


_COLUMNS = ("session_key", "session_data", "expire_date")


def _plain(model: type) -> bool:
    """Django's three columns and nobody listening to its saves: written with SQL compiled once, else by the ORM."""
    return tuple(f.attname for f in model._meta.concrete_fields) == _COLUMNS and not (
        signals.pre_save.has_listeners(model) or signals.post_save.has_listeners(model)
    )


def _values(obj: Any, using: str) -> list[Any]:
    connection = connections[using]
    return [obj._meta.get_field(name).get_db_prep_save(getattr(obj, name), connection) for name in _COLUMNS]


def _statement(model: type, kind: str, quote: sql.Quote) -> str:
    table = quote(model._meta.db_table)
    session_key, data, expiry = (sql.column(model, name, quote) for name in _COLUMNS)
    return {  # names from the model's metadata; every value a parameter
        "insert": f"INSERT INTO {table} ({session_key}, {data}, {expiry}) VALUES (%s, %s, %s)",  # noqa: S608
        "update": f"UPDATE {table} SET {data} = %s, {expiry} = %s WHERE {session_key} = %s",  # noqa: S608
        "move": f"UPDATE {table} SET {session_key} = %s, {data} = %s, {expiry} = %s WHERE {session_key} = %s",  # noqa: S608
    }[kind]


def _run(model: type, using: str, kind: str, params: list[Any]) -> int:
    """One INSERT or UPDATE of a session row, its SQL written once per model and database vendor."""
    connection = connections[using]
    statement = sql.written_once(
        f"session {kind} {model._meta.label}", lambda quote: _statement(model, kind, quote), connection
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


class SessionStore(DatabaseSessionStore):
    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)
        self._insert_on_save = False
        self._rotated_from: str | None = None  # the stored row cycle_key() left behind, moved by the next save

    def _get_session_from_db(self) -> Any:
        row = _by_key(self.model, router.db_for_read(self.model)).get(self.session_key)
        if row is None or row.expire_date <= timezone.now():
            self._session_key = None  # as Django's engine: no such session, or expired
            return None
        return row

    def _get_new_session_key(self) -> str:
        return get_random_string(KEY_LENGTH, VALID_KEY_CHARS)

    def cycle_key(self) -> None:
        data = self._session
        old_key = self.session_key
        self._session_key = self._get_new_session_key()
        self._session_cache = data
        if not self._insert_on_save:  # cycled twice before a save: the stored row is still the first one
            self._rotated_from = old_key
        self._insert_on_save = True
        self.modified = True

    def create(self) -> None:
        while True:
            self._session_key = self._get_new_session_key()
            try:
                self.save(must_create=True)
            except CreateError:
                continue  # the key was taken: draw another
            self.modified = True
            return

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            return self.create()
        if self._insert_on_save:
            self._insert_on_save = False
            old_key, self._rotated_from = self._rotated_from, None
            if old_key and _plain(self.model):
                if self._move(old_key):
                    return None
            elif old_key:
                self.delete(old_key)  # as Django's engine does, with the model's signals to whoever listens
            try:
                self._write(must_create=True)
            except CreateError:
                self.create()  # the drawn key was taken (about 2**-165): store under another one
            return None
        return self._write(must_create)

    def _move(self, old_key: str) -> bool:
        """Store the session under its new key by moving the old row (one ``UPDATE``; Django's three columns and no
        save listeners, see ``_plain``). False: no row to move, or the new key was taken (the old row is gone)."""
        obj = self.create_model_instance(self._get_session(no_load=True))
        using = router.db_for_write(self.model, instance=obj)
        guard: Any = transaction.atomic(using=using) if connections[using].in_atomic_block else contextlib.nullcontext()
        try:
            with guard:
                moved = _run(self.model, using, "move", [obj.session_key, *_values(obj, using)[1:], old_key])
        except IntegrityError:  # the drawn key was taken (about 2**-165): never overwrite that session
            self.delete(old_key)
            return False
        return bool(moved)

    def _write(self, must_create: bool) -> None:
        data = self._get_session(no_load=must_create)
        obj = self.create_model_instance(data)
        using = router.db_for_write(self.model, instance=obj)
        # One statement needs no transaction of its own; inside the caller's, a savepoint keeps it usable.
        guard: Any = transaction.atomic(using=using) if connections[using].in_atomic_block else contextlib.nullcontext()
        try:
            with guard:
                if not _plain(self.model):
                    obj.save(force_insert=must_create, force_update=not must_create, using=using)
                elif must_create:
                    _run(self.model, using, "insert", _values(obj, using))
                else:
                    key, data, expiry = _values(obj, using)
                    if not _run(self.model, using, "update", [data, expiry, key]):
                        raise DatabaseError("Forced update did not affect any rows.")  # as Model.save() says
        except IntegrityError:
            if must_create:
                raise CreateError from None
            raise
        except DatabaseError:
            if not must_create:
                raise UpdateError from None
            raise

    def delete(self, session_key: str | None = None) -> None:
        keys = [session_key]
        if session_key is None:
            keys = [key for key in (self.session_key, self._rotated_from) if key]
            self._insert_on_save = False
            self._rotated_from = None
            if not keys:
                return
        rows = (
            self.model.objects.filter(session_key__in=keys)
            if len(keys) > 1
            else self.model.objects.filter(session_key=keys[0])
        )
        if signals.pre_delete.has_listeners(self.model) or signals.post_delete.has_listeners(self.model):
            rows.delete()  # someone listens: Django's delete, which sends the signals
        else:
            rows._raw_delete(rows.db)  # one DELETE, no transaction of its own
