"""Brute-force throttling on django-axes, through whichever handler the host configured (``AXES_HANDLER``; the
portal uses the cache handler, counters in Redis shared by every node).

Passwords are throttled by axes itself: its backend runs first in ``AUTHENTICATION_BACKENDS`` and every failed
``authenticate()`` counts against the email *and* the source address, known account or not, so a lockout says
nothing about which accounts exist. The same counters guard other guessable secrets through ``check`` /
``failed`` / ``succeeded`` below, with a scope prefix so an OTP lockout does not lock the password:

    throttle.check(request, throttle.OTP, str(user.pk))        # raises Throttled (a 429 page) when locked
    if not device.verify_token(code):
        throttle.failed(request, throttle.OTP, str(user.pk))
    else:
        throttle.succeeded(request, throttle.OTP, str(user.pk))

A cache outage raises the cache client's ConnectionError, which the portal answers with a 503: throttling
fails closed (docs/security.md).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from jeto_identity.core.users import normalize_email
from jeto_identity.models import Lockout, User

log = logging.getLogger(__name__)
refusals = logging.getLogger("jeto_identity.throttle")  # one line per refused (throttled) request

PASSWORD = ""  # passwords use the bare email as their axes username
OTP = "otp"
CLIENT_SECRET = "client"
RECOVERY_CODE = "recovery"


class Throttled(PermissionDenied):
    """Too many failures for this key or address. Uncaught, it becomes axes' 429 lockout answer."""


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """``AXES_USERNAME_CALLABLE``: one canonical key per mailbox (``Alice@X`` and ``alice@x`` count together)."""
    value = (credentials or {}).get("email") or (credentials or {}).get("username")
    return normalize_email(str(value))[:254] if value else None


def enabled() -> bool:
    """django-axes is installed (the portal always; a host project should: system check W501)."""
    return apps.is_installed("axes")


def _handler():
    from axes.handlers.proxy import AxesProxyHandler

    return AxesProxyHandler


def lockout_seconds() -> int:
    from axes.helpers import get_cool_off

    cool_off = get_cool_off(None) or timedelta(minutes=15)
    return int(cool_off.total_seconds())


def _credentials(scope: str, key: str) -> dict[str, str]:
    from jeto_identity.audit.services import clean_text

    key = clean_text(key, 200)
    return {"email": f"{scope}:{key}" if scope else key}


def check(request: HttpRequest, scope: str, key: str) -> None:
    """Raise ``Throttled`` if this key or the request's address is locked out."""
    if enabled() and not _handler().is_allowed(request, _credentials(scope, key)):
        request.axes_locked_out = True
        request.axes_credentials = _credentials(scope, key)
        raise Throttled("Too many attempts.")


def key_digest(key: str) -> str:
    """A short, stable stand-in for a throttle key in logs (a client ID, an email): correlates, never reveals."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:16] if key and key != "-" else "-"


def refused(request: HttpRequest, scope: str, key: str) -> HttpResponse:
    """The answer to a request ``check`` refused: the lockout response (429) and one log line, no traceback.

    A throttled request is an expected outcome, so it is not raised through Django's exception handling (which
    logs ``Throttled`` with a traceback through ``django.request``). The line names the scope, a digest of the
    key and the address; never the presented secret.
    """
    from axes.helpers import get_lockout_response

    refusals.info(
        "throttle.refused scope=%s key=%s ip=%s",
        scope or "password",
        key_digest(key),
        getattr(request, "axes_ip_address", None) or request.META.get("REMOTE_ADDR", "-"),
    )
    return get_lockout_response(request, None, getattr(request, "axes_credentials", None))


def failed(request: HttpRequest, scope: str, key: str) -> bool:
    """Count a wrong guess; True when it has just locked the key or address out."""
    if not enabled():
        return False
    _handler().user_login_failed(sender=__name__, credentials=_credentials(scope, key), request=request)
    return bool(getattr(request, "axes_locked_out", False))


def succeeded(request: HttpRequest, scope: str, key: str) -> None:
    """A right guess resets the key's counter (never the address's: that would let a stuffing run reset it).

    When ``check`` saw the counter at zero (the fast-path axes handler leaves the counts it read on the request),
    there is nothing to reset and the round trip is skipped: the common case on the token endpoint.
    """
    if not enabled():
        return
    username = _credentials(scope, key)["email"]
    seen = getattr(request, "jeto_throttle_counts", None)
    if seen is not None and not any(seen.get(k) for k in _username_keys(username)):
        return
    clear(username=username)


def _username_keys(username: str) -> list[str]:
    from axes.helpers import make_cache_key_list

    canonical = axes_username(None, {"email": username}) or ""  # the same canonical form axes hashed
    return make_cache_key_list([{"username": canonical}]) if canonical else []


def clear(*, username: str = "", ip_address: str | None = None) -> int:
    """Lift a lockout: reset the account's and/or the address's failures (what the admin action calls).

    Through axes' public ``reset_attempts``, so it works with any handler: the cache handler deletes the counters;
    the database handler deletes the attempt rows, each of which counted against both the account and its address.
    """
    if not enabled():
        return 0
    canonical = axes_username(None, {"email": username}) if username else None  # the form axes stored
    count = _handler().reset_attempts(username=canonical) if canonical else 0
    if ip_address:
        count += _handler().reset_attempts(ip_address=ip_address)
    return count


def remember_lockout(username: str | None, ip_address: str | None, failures: int | None) -> Lockout | None:
    """Index a lockout for the admin (the counters stay in the cache)."""
    from jeto_identity.audit.services import clean_text

    username = clean_text(username, 254)
    until = timezone.now() + timedelta(seconds=lockout_seconds())
    email = username if "@" in username and ":" not in username.split("@")[0] else ""
    user = User.objects.filter(email=email).first() if email else None
    if user is None and ":" in username:
        scope, _, key = username.partition(":")
        if scope in {OTP, RECOVERY_CODE}:
            user = User.objects.filter(pk=key).first() if _is_uuid(key) else None
    defaults = {"user": user, "failures": failures or 0, "locked_until": until, "locked_at": timezone.now()}
    try:
        with transaction.atomic():
            row, _ = Lockout.objects.update_or_create(username=username, ip_address=ip_address, defaults=defaults)
    except IntegrityError:  # two nodes raced to index the same lockout; one row is enough
        return Lockout.objects.filter(username=username, ip_address=ip_address).first()
    return row


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def on_locked_out(
    sender: Any,
    request: HttpRequest | None = None,
    username: str | None = None,
    ip_address: str | None = None,
    **kwargs: Any,
) -> None:
    from jeto_identity.audit import services as audit

    failures = getattr(request, "axes_failures_since_start", None) if request is not None else None
    row = remember_lockout(username, ip_address, failures)
    first = failures is not None  # axes re-sends the signal for each attempt made while already locked out
    if not first:
        return
    scope = (username or "").partition(":")[0] if ":" in (username or "") else PASSWORD
    organization = audit.organization_for(row.user if row else None, username or "")
    if scope == CLIENT_SECRET:
        from jeto_identity.models import OAuthClient

        client = OAuthClient.objects.filter(client_id__iexact=(username or "").partition(":")[2]).first()
        organization = client.organization if client is not None else None
    audit.record(
        audit.SIGN_IN_LOCKED_OUT if scope == PASSWORD else audit.THROTTLED,
        request=request,
        subject=row.user if row and row.user else (username or ""),
        organization=organization,
        outcome=audit.DENIED,
        failures=failures,
        locked_until=row.locked_until.isoformat() if row else None,
        via=scope or "password",
    )
