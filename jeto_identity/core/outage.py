"""Classify "a backing service is down" errors and build the 503 answer for them; which requests get JSON."""

from __future__ import annotations

from django.db.utils import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template import loader

try:  # redis is the portal's cache client; a host project on another cache simply never sees these.
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    _CACHE_ERRORS: tuple[type[BaseException], ...] = (RedisConnectionError, RedisTimeoutError)
except ImportError:  # pragma: no cover
    _CACHE_ERRORS = ()

RETRY_AFTER_SECONDS = 15
# Paths whose error answers (503, lockout) are JSON whatever the Accept header: the provider's endpoints, and the
# prefixes a host adds for its own API with ``answer_json_under`` (the portal: its Jeto API).
_JSON_PATH_PREFIXES: list[str] = ["/o/"]


def answer_json_under(prefix: str) -> None:
    """Answer errors under ``prefix`` (e.g. ``"/api/"``) in JSON. Call it from your AppConfig's ``ready()``."""
    if prefix not in _JSON_PATH_PREFIXES:
        _JSON_PATH_PREFIXES.append(prefix)


def wants_json(request: HttpRequest) -> bool:
    """The client asked for JSON, or called an endpoint that only speaks JSON."""
    return "application/json" in request.META.get("HTTP_ACCEPT", "") or request.path.startswith(
        tuple(_JSON_PATH_PREFIXES)
    )


def is_outage(exc: BaseException | None) -> str | None:
    """``"database"`` or ``"cache"`` when ``exc`` (or what caused it) means that service is unreachable."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, OperationalError | InterfaceError):
            return "database"
        if _CACHE_ERRORS and isinstance(exc, _CACHE_ERRORS):
            return "cache"
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def outage_response(request: HttpRequest | None, kind: str) -> HttpResponse:
    """The 503 page. Rendered without context processors: they could touch the database that is down."""
    if request is not None and wants_json(request):
        response = HttpResponse(
            '{"error": "temporarily_unavailable", "error_description": "Try again shortly."}',
            status=503,
            content_type="application/json",
        )
    else:
        body = loader.select_template(["503.html", "jeto_identity/errors/503.html"]).render({"kind": kind})
        response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response
