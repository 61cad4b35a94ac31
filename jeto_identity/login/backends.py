"""Authentication backends."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from jeto_identity.core import sql
from jeto_identity.core.users import normalize_email
from jeto_identity.models import User


def _user_by_email_sql(quote: sql.Quote) -> str:
    table, email = quote(User._meta.db_table), sql.column(User, "email", quote)
    return f"SELECT {sql.columns(User, 'u', quote)} FROM {table} u WHERE u.{email} = %s"  # noqa: S608 - names from _meta


def user_by_email(email: str) -> User | None:
    """The account with this (normalised) email, whatever its state: the same row as
    ``User._default_manager.get(email=email)``, read with SQL written once (``core.sql``)."""
    return next(iter(User._default_manager.raw(sql.written_once("user_by_email", _user_by_email_sql), [email])), None)


class EmailBackend(ModelBackend):
    """Email + password, case-insensitive on the email.

    An unknown email still runs the password hasher once (Django's ModelBackend does this too), so a wrong
    email and a wrong password take comparable time.
    """

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs
    ) -> User | None:
        email = kwargs.get("email") or username
        if not email or password is None:
            return None
        user = user_by_email(normalize_email(email))
        if user is None:
            User().set_password(password)  # equalise timing with the known-user path
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
