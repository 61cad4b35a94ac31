"""The sign-in pipeline: identify (email) -> authenticate (password or SSO) -> further stages -> session.

Nothing here calls ``django.contrib.auth.login`` until every required stage has passed, so a browser that has
only given a password is still anonymous to every view, the OIDC authorization endpoint and Django admin.
The pending state lives in the session under ``PENDING_KEY``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import SESSION_KEY, authenticate, login
from django.http import HttpRequest

from jeto_identity.conf import jeto_settings
from jeto_identity.core import sessions
from jeto_identity.core.users import normalize_email
from jeto_identity.models import User

PENDING_KEY = "jeto_login"
AMR_SESSION_KEY = "jeto_amr"
AUTH_TIME_SESSION_KEY = "jeto_auth_time"
BACKEND = "jeto_identity.backends.EmailBackend"


@dataclass
class PendingLogin:
    """What the browser has proved so far in this sign-in attempt."""

    email: str = ""
    next_url: str = ""
    user_id: str | None = None
    amr: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, request: HttpRequest) -> PendingLogin | None:
        raw = request.session.get(PENDING_KEY)
        if not isinstance(raw, dict):
            return None
        return cls(
            email=raw.get("email", ""),
            next_url=raw.get("next_url", ""),
            user_id=raw.get("user_id"),
            amr=list(raw.get("amr", [])),
        )

    def save(self, request: HttpRequest) -> None:
        request.session[PENDING_KEY] = {
            "email": self.email,
            "next_url": self.next_url,
            "user_id": self.user_id,
            "amr": self.amr,
        }

    def user(self) -> User | None:
        if not self.user_id:
            return None
        return User.objects.filter(pk=self.user_id, is_active=True).first()


# A stage is a callable (request, user, pending) -> URL of a page the user must complete next, or None.
# ``JETO_IDENTITY["LOGIN_STAGES"]`` lists them (dotted paths); they run in order after the first factor.
Stage = Callable[[HttpRequest, User, PendingLogin], "str | None"]


def stages() -> list[Stage]:
    """The configured stages, imported once (again after the settings change)."""
    return jeto_settings.imported("LOGIN_STAGES")


def begin(request: HttpRequest, email: str, next_url: str = "") -> PendingLogin:
    """Step 1: remember the email. Says nothing about whether an account exists."""
    pending = PendingLogin(email=normalize_email(email), next_url=next_url)
    pending.save(request)
    return pending


def check_password(request: HttpRequest, pending: PendingLogin, password: str) -> User | None:
    return authenticate(request, email=pending.email, password=password)


def first_factor_passed(
    request: HttpRequest, pending: PendingLogin, user: User, method: str, also: tuple[str, ...] = ()
) -> str | None:
    """Record a passed first factor (``pwd``, ``fed``, a passkey's ``hwk``/``swk``) and return the next stage's URL,
    or finish the login. ``also``: further RFC 8176 values the same proof carries (a passkey: ``mfa``).

    The session key rotates here as well as at ``complete()``: a half-signed-in session (waiting for a second
    factor or enrolment) must not keep a key that someone may have planted before the password was given. When
    no stage needs the user, ``complete()`` signs them in within this request and Django's ``login()`` rotates
    the key; rotating it once more first would only write and delete a session row no browser ever saw. So the
    key rotates here unless this request ended signed in (a stage's URL, an abandoned login or an error all
    rotate it; ``advance`` rotates it when a stage or the sign-in raises).
    """
    pending.user_id = str(user.pk)
    pending.email = user.email
    pending.amr = [method, *(m for m in also if m != method)]
    pending.save(request)
    url = advance(request, pending, user)
    if not (url is None and request.session.get(SESSION_KEY) == user._meta.pk.value_to_string(user)):
        request.session.cycle_key()
    return url


def advance(request: HttpRequest, pending: PendingLogin, user: User | None = None) -> str | None:
    """Run the remaining stages; when none needs the user, sign them in and return None. When one of them (or
    the sign-in) raises, the session key is retired before the error goes on (``_retire_key``).

    ``user``: the pending user as this request already loaded it (the first factor's), to save reading it again;
    an inactive one counts as none, as ``pending.user()`` would.
    """
    try:
        if user is None or str(user.pk) != pending.user_id or not user.is_active:
            user = pending.user()
        if user is None:
            abandon(request)
            return None
        for stage in stages():
            url = stage(request, user, pending)
            if url:
                return url
        complete(request, user, pending.amr)
        return None
    except BaseException:
        _retire_key(request)
        raise


def _retire_key(request: HttpRequest) -> None:
    """A stage or the sign-in raised: rotate the key and store the session now. ``SessionMiddleware`` never saves
    an error answer, and a session engine may retire the old row only when the session is saved (the fast-path
    engine moves it); Django's engine deletes it at the rotation. Under ``ATOMIC_REQUESTS`` the error rolls this
    back, as it would Django's delete."""
    request.session.cycle_key()
    request.session.save()


def add_factor(request: HttpRequest, pending: PendingLogin, method: str) -> None:
    if method not in pending.amr:
        pending.amr.append(method)
    pending.save(request)


def complete(request: HttpRequest, user: User, amr: list[str]) -> None:
    """Sign in: Django's login() rotates the session key; record how and when the user authenticated."""
    request.session.pop(PENDING_KEY, None)
    request.jeto_amr = list(amr)  # for the user_logged_in audit receiver (the session may be flushed)
    # For the session registry's "new device" check: read before login() stamps last_login.
    request.jeto_signed_in_before = user.last_login is not None
    login(request, user, backend=BACKEND)
    request.session[AMR_SESSION_KEY] = list(amr)
    request.session[AUTH_TIME_SESSION_KEY] = int(time.time())


def abandon(request: HttpRequest) -> None:
    request.session.pop(PENDING_KEY, None)


def session_auth_info(request: HttpRequest) -> dict[str, Any]:
    """``amr`` and ``auth_time`` of the current signed-in session, for ID tokens, and the session's registry id
    (``core.sessions``: ending the session revokes the tokens issued through it)."""
    return {
        "amr": list(request.session.get(AMR_SESSION_KEY, [])),
        "auth_time": request.session.get(AUTH_TIME_SESSION_KEY),
        "session_id": sessions.current_session_id(request),
    }


# An email router is a callable (request, pending) -> URL to send the browser to instead of the password
# step (single sign-on is one), or None. It must answer the same way for unknown and known emails.
# ``JETO_IDENTITY["EMAIL_ROUTERS"]`` lists them (dotted paths), asked in order.
EmailRouter = Callable[[HttpRequest, PendingLogin], "str | None"]


def email_routers() -> list[EmailRouter]:
    """The configured email routers, imported once (again after the settings change)."""
    return jeto_settings.imported("EMAIL_ROUTERS")


def route_email(request: HttpRequest, pending: PendingLogin) -> str | None:
    for router in email_routers():
        url = router(request, pending)
        if url:
            return url
    return None
