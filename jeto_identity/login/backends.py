"""Authentication backends."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from jeto_identity.core.users import normalize_email
from jeto_identity.models import User


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
        try:
            user = User._default_manager.get(email=normalize_email(email))
        except User.DoesNotExist:
            User().set_password(password)  # equalise timing with the known-user path
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
