"""End every session and OAuth token of a person: what deprovisioning and "sign out everywhere" call.

``end_user_sessions`` works with any session engine. Database-backed engines (``db``, ``cached_db``) are searched
directly; for the others (cache, file) every sign-in is remembered in a per-user index in the cache
(``user_logged_in``, connected by ``connect()``), and the indexed sessions are deleted through the engine.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.signals import user_logged_in
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

_INDEX = "jeto:sessions:{}"
_INDEX_MAX = 200
_DB_ENGINES = ("django.contrib.sessions.backends.db", "django.contrib.sessions.backends.cached_db")


def _store_class() -> Any:
    return import_module(settings.SESSION_ENGINE).SessionStore


def _index_key(user: Any) -> str:
    return _INDEX.format(user.pk)


def remember_session(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """``user_logged_in`` receiver: index the new session key under the user (non-database engines only)."""
    if settings.SESSION_ENGINE in _DB_ENGINES or request is None or not hasattr(request, "session"):
        return
    if request.session.session_key is None:
        request.session.save()
    keys = [k for k in cache.get(_index_key(user), []) if k != request.session.session_key]
    keys.append(request.session.session_key)
    cache.set(_index_key(user), keys[-_INDEX_MAX:], timeout=settings.SESSION_COOKIE_AGE)


def _session_keys(user: Any) -> list[str]:
    if settings.SESSION_ENGINE in _DB_ENGINES:
        from django.contrib.sessions.models import Session

        store = _store_class()
        found = []
        for key, data in (
            Session.objects.filter(expire_date__gt=timezone.now()).values_list("session_key", "session_data").iterator()
        ):
            if str(store().decode(data).get(SESSION_KEY, "")) == str(user.pk):
                found.append(key)
        return found
    return list(cache.get(_index_key(user), []))


def revoke_oauth_tokens(user: Any) -> int:
    """Delete the user's OAuth access and refresh tokens, ID tokens and pending codes. Returns access tokens gone."""
    from oauth2_provider.models import (
        get_access_token_model,
        get_grant_model,
        get_id_token_model,
        get_refresh_token_model,
    )

    with transaction.atomic():
        get_refresh_token_model().objects.filter(user=user).delete()
        deleted, _ = get_access_token_model().objects.filter(user=user).delete()
        get_id_token_model().objects.filter(user=user).delete()
        get_grant_model().objects.filter(user=user).delete()
    return deleted


def end_user_sessions(user: Any, *, keep_session_key: str | None = None, reason: str) -> int:
    """Sign ``user`` out of every session (but ``keep_session_key``) and revoke their OAuth tokens.

    Returns how many sessions were ended. ``reason`` names the caller for the log (e.g. ``"scim"``).
    """
    store = _store_class()
    ended = 0
    for key in _session_keys(user):
        if key and key != keep_session_key:
            store(session_key=key).delete()
            ended += 1
    if settings.SESSION_ENGINE not in _DB_ENGINES:
        cache.set(_index_key(user), [keep_session_key] if keep_session_key else [], timeout=settings.SESSION_COOKIE_AGE)
    revoke_oauth_tokens(user)
    return ended


def connect() -> None:
    user_logged_in.connect(remember_session, dispatch_uid="jeto_core_remember_session")
