"""Sessions across devices: a registry of each user's signed-in sessions, and ending them from anywhere.

Every sign-in (Django's ``user_logged_in``, whatever path led there) writes one ``UserSession`` row and keeps its
id in the session (``SESSION_ID_KEY``). ``SessionRegistryMiddleware`` then costs a signed-in request one cache
read: the cache holds when the row was last touched (or that it ended); the row's ``last_seen_at`` is written at
most every ``SESSION_LAST_SEEN_SECONDS``, never once per request.

Ending a session marks its row ended and its cache entry ``ENDED``: the next request carrying that session is
signed out by the middleware, whatever the session engine (database, cache, signed cookies), because nothing
depends on finding the engine's stored session. Refresh and access tokens that relying parties got through
sign-ins made in an ended session are revoked with it (``AuthenticationContext.session`` links a code to the
session that authorised it); when no session is kept, every token issued to the user is revoked.

Public API (also used by SCIM deprovisioning): ``end_user_sessions(user, *, keep_session_key=None, reason)``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import time
import uuid
from collections.abc import Callable
from importlib import import_module

from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout
from django.core import signing
from django.core.cache import cache
from django.db import models, transaction
from django.dispatch import Signal
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from jeto_identity.conf import jeto_settings
from jeto_identity.core.net import client_ip

logger = logging.getLogger("jeto_identity.sessions")

SESSION_ID_KEY = "jeto_sid"
CACHE_PREFIX = "jeto:session:"
ENDED = "ended"
DEVICE_COOKIE = "jeto_device"
_DEVICE_SALT = "jeto_identity.sessions.device"
_DEVICE_MAX_USERS = 8
_DEVICE_COOKIE_AGE = 400 * 24 * 3600
USER_AGENT_MAX = 256
_CONTROL = dict.fromkeys(range(0x20)) | {0x7F: None}

# session_started(sender=UserSession, session, user, request, new_device): a sign-in registered its session.
# ``new_device``: this browser never signed this user in before (and the user has signed in elsewhere before).
session_started = Signal()
# sessions_ended(sender=UserSession, user, session_ids, reason): sessions were ended (not plain sign-outs).
sessions_ended = Signal()


class UserSession(models.Model):
    """One signed-in browser session of one user (the account security page lists them)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=32, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=256, blank=True)
    amr = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = "signed-in session"
        ordering = ["-last_seen_at"]
        indexes = [models.Index(fields=["user", "ended_at"], name="jeto_usersession_user_open")]

    def __str__(self) -> str:
        return f"Session of {self.user_id} since {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def active(self) -> bool:
        return self.ended_at is None


# --- registering -----------------------------------------------------------------------------------------------


def _cache_key(session_id: object) -> str:
    return f"{CACHE_PREFIX}{session_id}"


def _resolution() -> int:
    return max(1, int(jeto_settings.SESSION_LAST_SEEN_SECONDS))


def _ip(request: HttpRequest) -> str | None:
    try:
        return str(ipaddress.ip_address(client_ip(request)))
    except ValueError:
        return None


def _user_agent(request: HttpRequest) -> str:
    return str(request.META.get("HTTP_USER_AGENT", "")).translate(_CONTROL)[:USER_AGENT_MAX]


def _user_mark(user_id: object) -> str:
    """A short keyed digest of a user id for the device cookie (the cookie never names the account)."""
    return hashlib.sha256(f"{settings.SECRET_KEY}:{user_id}".encode()).hexdigest()[:16]


def _device_marks(request: HttpRequest) -> list[str]:
    raw = request.COOKIES.get(DEVICE_COOKIE)
    if not raw:
        return []
    try:
        marks = signing.loads(raw, salt=_DEVICE_SALT, max_age=_DEVICE_COOKIE_AGE)
    except signing.BadSignature:
        return []
    return [m for m in marks if isinstance(m, str)][:_DEVICE_MAX_USERS] if isinstance(marks, list) else []


def register(request: HttpRequest, user: object, *, announce: bool = True) -> UserSession:
    """Record a new signed-in session (one INSERT) and remember its id in the session.

    ``announce=False``: a session that was signed in before the registry existed, adopted at its next request;
    no ``session_started`` (it is not a new sign-in)."""
    previous = current_session_id(request)
    if previous:  # signing in again in the same browser session (Django kept its data): the old row ends here
        _mark_ended(user, [previous], "signed_in_again")
    amr = [str(m)[:16] for m in getattr(request, "jeto_amr", None) or []][:8]
    row = UserSession.objects.create(user=user, ip_address=_ip(request), user_agent=_user_agent(request), amr=amr)
    request.session[SESSION_ID_KEY] = str(row.pk)
    cache.set(_cache_key(row.pk), time.time(), timeout=_resolution() * 2)
    if not announce:
        return row
    marks = _device_marks(request)
    mark = _user_mark(user.pk)
    new_device = mark not in marks
    if new_device:
        request.jeto_device_cookie = signing.dumps([mark, *marks][:_DEVICE_MAX_USERS], salt=_DEVICE_SALT)
        # A first sign-in ever is not a "new device": only a browser other than those used before. The pipeline
        # knows from last_login (read before login() stamped it); otherwise, or when it was never stamped, an
        # earlier session row decides.
        new_device = bool(getattr(request, "jeto_signed_in_before", False)) or (
            UserSession.objects.filter(user=user).exclude(pk=row.pk).exists()
        )
    session_started.send(sender=UserSession, session=row, user=user, request=request, new_device=new_device)
    return row


def current_session_id(request: HttpRequest) -> str | None:
    session = getattr(request, "session", None)
    value = session.get(SESSION_ID_KEY) if session is not None else None
    return value if isinstance(value, str) else None


def active_sessions(user: object) -> list[UserSession]:
    return list(UserSession.objects.filter(user=user, ended_at__isnull=True).order_by("-last_seen_at"))


# --- ending ----------------------------------------------------------------------------------------------------


def _session_id_of_key(session_key: str | None) -> str | None:
    """The registry id kept in a Django session, by its key, with whatever engine is configured."""
    if not session_key:
        return None
    from jeto_identity.core.middleware import current_request

    session = getattr(current_request(), "session", None)
    if session is not None and session.session_key == session_key:
        # This request's own session, as it is now: a key just rotated (``login()``, a password change) may not be
        # stored yet, whatever the engine, so it is not read back from the store.
        value = session.get(SESSION_ID_KEY)
        return value if isinstance(value, str) else None
    engine = import_module(settings.SESSION_ENGINE)
    try:
        value = engine.SessionStore(session_key=session_key).get(SESSION_ID_KEY)
    except Exception:  # noqa: BLE001 - an unreadable session keeps nothing
        return None
    return value if isinstance(value, str) else None


def _mark_ended(user: object, ids: list, reason: str) -> list[str]:
    """End those of ``ids`` that are open sessions of ``user``; returns the ids it ended."""
    if not ids:
        return []
    open_rows = UserSession.objects.filter(user=user, pk__in=ids, ended_at__isnull=True)
    ended = [str(pk) for pk in open_rows.values_list("pk", flat=True)]
    if ended:
        UserSession.objects.filter(pk__in=ended).update(ended_at=timezone.now(), end_reason=reason[:32])
        cache.set_many({_cache_key(i): ENDED for i in ended}, timeout=_resolution() * 2)
    return ended


def revoke_tokens(user: object, session_ids: list | None) -> int:
    """Revoke the refresh tokens (and their access tokens) relying parties got for ``user``: those authorised in
    ``session_ids``, or every one when ``session_ids`` is None. Returns how many refresh tokens were revoked."""
    from oauth2_provider.models import get_access_token_model, get_refresh_token_model

    AccessToken, RefreshToken = get_access_token_model(), get_refresh_token_model()
    refresh = RefreshToken.objects.filter(user=user, revoked__isnull=True)
    access = AccessToken.objects.filter(user=user)
    if session_ids is not None:
        if not session_ids:
            return 0
        # The families of codes authorised in those sessions (AuthenticationContext.session, a reverse relation).
        families = [
            f
            for f in UserSession.objects.filter(pk__in=session_ids)
            .exclude(authentication_contexts__token_family=None)
            .values_list("authentication_contexts__token_family", flat=True)
            if f
        ]
        refresh = refresh.filter(token_family__in=families)
        access = access.filter(
            models.Q(source_refresh_token__token_family__in=families)
            | models.Q(refresh_token__token_family__in=families)
        )
    with transaction.atomic():
        revoked = refresh.update(revoked=timezone.now())
        access.delete()
        _delete_pending_codes(user, session_ids)
    return revoked


def _delete_pending_codes(user: object, session_ids: list | None) -> None:
    """Codes authorised in those sessions (every one of the user's when None) and not yet redeemed: a code issued
    just before the session ended would otherwise still buy tokens for up to its lifetime."""
    from oauth2_provider.models import get_grant_model

    Grant = get_grant_model()
    grants = Grant.objects.filter(user=user)
    if session_ids is not None:
        # AuthenticationContext (provider) keeps each code's SHA-256 and the session it was authorised in.
        hashes = set(
            UserSession.objects.filter(pk__in=session_ids)
            .exclude(authentication_contexts__code_hash=None)
            .values_list("authentication_contexts__code_hash", flat=True)
        )
        doomed = [
            pk
            for pk, code in grants.values_list("pk", "code")
            if hashlib.sha256(code.encode("utf-8")).hexdigest() in hashes
        ]
        grants = Grant.objects.filter(pk__in=doomed)
    grants.delete()


def end_user_sessions(user: object, *, keep_session_key: str | None = None, reason: str) -> int:
    """End every session of ``user`` except the one whose Django session key is ``keep_session_key``.

    Works with any session engine: the ended sessions are signed out at their next request. Revokes the
    refresh/access tokens issued in those sessions, or all the user's tokens when nothing is kept. Returns how
    many sessions were ended.
    """
    kept = _session_id_of_key(keep_session_key)
    open_ids = [
        str(pk)
        for pk in UserSession.objects.filter(user=user, ended_at__isnull=True).values_list("pk", flat=True)
        if str(pk) != kept
    ]
    with transaction.atomic():
        count = len(_mark_ended(user, open_ids, reason))
        revoked = revoke_tokens(user, open_ids if keep_session_key else None)
    logger.info(
        "sessions.ended user=%s count=%s tokens=%s reason=%s", getattr(user, "pk", None), count, revoked, reason
    )
    if count or revoked:
        sessions_ended.send(sender=UserSession, user=user, session_ids=open_ids, reason=reason)
    return count


def end_session(user: object, session_id: str, *, reason: str) -> bool:
    """End one session of ``user`` (another user's id ends nothing) and revoke the tokens issued in it."""
    try:
        uuid.UUID(str(session_id))
    except ValueError:
        return False
    with transaction.atomic():
        ended = bool(_mark_ended(user, [str(session_id)], reason))
        if ended:
            revoke_tokens(user, [str(session_id)])
    if ended:
        sessions_ended.send(sender=UserSession, user=user, session_ids=[str(session_id)], reason=reason)
    return ended


# --- per request -----------------------------------------------------------------------------------------------


class SessionRegistryMiddleware:
    """Signs out a session that was ended elsewhere; keeps ``last_seen_at`` roughly current.

    Install after ``AuthenticationMiddleware`` (and before django-otp's ``OTPMiddleware``). One cache read per
    signed-in request; a database write at most every ``SESSION_LAST_SEEN_SECONDS`` per session.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.SESSION_COOKIE_NAME in request.COOKIES:
            self._check(request)
        response = self.get_response(request)
        cookie = getattr(request, "jeto_device_cookie", None)
        if cookie:
            response.set_cookie(
                DEVICE_COOKIE,
                cookie,
                max_age=_DEVICE_COOKIE_AGE,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response

    def _check(self, request: HttpRequest) -> None:
        session_id = current_session_id(request)
        if session_id is None:
            if SESSION_KEY in request.session:  # signed in before the registry existed: adopt it, once
                user = getattr(request, "user", None)
                if user is not None and user.is_authenticated:
                    register(request, user, announce=False)
            return
        key = _cache_key(session_id)
        state = cache.get(key)
        now = time.time()
        if state == ENDED:
            self._sign_out(request)
            return
        if isinstance(state, int | float) and now - state < _resolution():
            return
        touched = UserSession.objects.filter(pk=session_id, ended_at__isnull=True).update(
            last_seen_at=timezone.now(), ip_address=_ip(request)
        )
        if not touched:
            cache.set(key, ENDED, timeout=_resolution() * 2)
            self._sign_out(request)
            return
        cache.set(key, now, timeout=_resolution() * 2)

    @staticmethod
    def _sign_out(request: HttpRequest) -> None:
        request.jeto_session_ended = True
        logout(request)


# --- receivers -------------------------------------------------------------------------------------------------


def _logged_in(sender: object, request: HttpRequest | None, user: object, **kwargs: object) -> None:
    if request is not None and getattr(request, "session", None) is not None:
        register(request, user)


def _logged_out(sender: object, request: HttpRequest | None, user: object, **kwargs: object) -> None:
    if request is None or user is None or getattr(request, "jeto_session_ended", False):
        return
    session_id = current_session_id(request)
    if session_id:
        _mark_ended(user, [session_id], "signed_out")


def connect() -> None:
    """Called from ``JetoIdentityConfig.ready``."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.signals import user_logged_in, user_logged_out

    user_model = get_user_model()
    user_logged_in.connect(_logged_in, sender=user_model, dispatch_uid="jeto_sessions_logged_in")
    user_logged_out.connect(_logged_out, sender=user_model, dispatch_uid="jeto_sessions_logged_out")
