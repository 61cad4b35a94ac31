"""Request-scoped middleware: the audit context, and a 503 instead of a 500 when a backing service is down."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

from jeto_identity.core.outage import is_outage, outage_response

log = logging.getLogger(__name__)

_current_request: ContextVar[HttpRequest | None] = ContextVar("jeto_current_request", default=None)


def current_request() -> HttpRequest | None:
    """The request being served on this thread/task, so signal handlers can audit who and from where."""
    return _current_request.get()


class AuditContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            _current_request.reset(token)


class ServiceUnavailableMiddleware:
    """Database or cache unreachable: a plain 503 page (no stack trace) with Retry-After.

    Django's ``CONN_HEALTH_CHECKS`` and the cache client's reconnects make the next request after recovery
    succeed, so nothing needs restarting. Errors raised outside a view (e.g. saving the session) are caught by
    the ``handler500`` in ``views.errors``, which answers the same 503.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        kind = is_outage(exception)
        if kind is None:
            return None
        # No reconnect logic here: at the end of the request Django closes a connection that had errors and
        # no longer answers (close_old_connections), and CONN_HEALTH_CHECKS re-checks it on the next one.
        log.warning("%s unavailable while serving %s: %s", kind, request.path, type(exception).__name__)
        return outage_response(request, kind)
