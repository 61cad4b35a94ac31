"""Post-login redirect targets: only ever a path on this site."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.utils.http import url_has_allowed_host_and_scheme

from jeto_identity.conf import jeto_settings


def safe_next_url(candidate: str | None, default: str | None = None) -> str:
    """Return ``candidate`` if it is a local absolute path, else the default.

    Refuses scheme-relative (``//host``), backslash tricks (``/\\host``), ``https:host``, any scheme or netloc,
    and control characters that browsers strip before parsing.
    """
    fallback = default or jeto_settings.LOGIN_REDIRECT_URL
    if not candidate or len(candidate) > 2000:
        return fallback
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in candidate) or "\\" in candidate:
        return fallback
    if not candidate.startswith("/") or candidate.startswith("//"):
        return fallback
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc:
        return fallback
    if not url_has_allowed_host_and_scheme(candidate, allowed_hosts=set(), require_https=False):
        return fallback
    return candidate
