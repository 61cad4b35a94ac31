"""Security mail: a factor added or removed, the password changed, a sign-in from a new device.

Each message says what happened, when, from which address and browser, and carries a "this wasn't me" link
(signed, valid for a week) that signs the account out everywhere. Sent off the request path through
``core.mail`` and the adapter's ``send_mail``; a failure is logged, never raised.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.urls import reverse
from django.utils import timezone

from jeto_identity.conf import jeto_settings
from jeto_identity.core import mail
from jeto_identity.core.middleware import current_request
from jeto_identity.core.net import client_ip
from jeto_identity.models import User
from jeto_identity.security import services

FACTOR_ADDED = "factor_added"
FACTOR_REMOVED = "factor_removed"
PASSWORD_CHANGED = "password_changed"
NEW_SIGN_IN = "new_sign_in"
SUBJECTS = {
    FACTOR_ADDED: "A sign-in method was added to your account",
    FACTOR_REMOVED: "A sign-in method was removed from your account",
    PASSWORD_CHANGED: "Your password was changed",
    NEW_SIGN_IN: "New sign-in to your account",
}


def _site_root(request: Any) -> str:
    issuer = str(jeto_settings.ISSUER or "").rstrip("/")
    if issuer:
        return issuer
    if request is not None:
        try:
            return request.build_absolute_uri("/").rstrip("/")
        except (KeyError, DisallowedHost):  # a request without a usable host (e.g. a test client's login)
            return ""
    return ""


def notify(user: User, event: str, *, request: Any = None, detail: str = "", device_id: int | None = None) -> None:
    """Send one security message to ``user`` (``event`` one of the constants above)."""
    if not getattr(user, "email", ""):
        return
    request = request if request is not None else current_request()
    token = services.not_me_token(user, event, device_id)
    context = {
        "user": user,
        "event": event,
        "headline": SUBJECTS[event],
        "detail": detail,
        "when": timezone.now(),
        "ip_address": client_ip(request) if request is not None else "",
        "browser": services.describe_user_agent(request.META.get("HTTP_USER_AGENT", "")) if request is not None else "",
        "site_name": jeto_settings.SITE_NAME,
        "not_me_url": _site_root(request) + reverse("jeto_identity:security_not_me", args=[token]),
        "security_url": _site_root(request) + reverse("jeto_identity:account_security"),
    }
    mail.send_mail(
        "jeto_identity/security/email/subject.txt",
        "jeto_identity/security/email/notification.txt",
        context,
        getattr(settings, "DEFAULT_FROM_EMAIL", None),
        user.email,
    )
