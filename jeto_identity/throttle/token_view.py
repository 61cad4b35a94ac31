"""Client-secret guessing at the token endpoint, throttled with django-axes (``ThrottledTokenMixin``).

The provider's token view (``jeto_identity.provider.views.TokenView``) puts the mixin in front of DOT's. A client
ID that has failed authentication too often, or an address that has, gets 429 ``too_many_requests`` (for every
client ID, known or not) until the cool-off passes.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote_plus

from django.http import HttpRequest, HttpResponse, JsonResponse

from jeto_identity.throttle import services as throttle

MAX_CLIENT_ID = 100


def presented_client_id(request: HttpRequest) -> str:
    """The client ID from HTTP Basic (RFC 6749 2.3.1: form-urlencoded) or the body; "" when none or garbled."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return ""
        return unquote_plus(decoded.partition(":")[0])[:MAX_CLIENT_ID]
    value = request.POST.get("client_id", "")
    return value[:MAX_CLIENT_ID] if isinstance(value, str) else ""


def _has_nul(request: HttpRequest, client_id: str) -> bool:
    values = [client_id, *(v for _, vs in request.POST.lists() for v in vs)]
    return any("\x00" in v for v in values)


class ThrottledTokenMixin:
    """Put in front of any django-oauth-toolkit ``TokenView`` (sub)class."""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not throttle.enabled():  # a host project without brute-force protection (system check W501)
            return super().post(request, *args, **kwargs)
        client_id = presented_client_id(request)
        key = client_id or "-"
        try:
            throttle.check(request, throttle.CLIENT_SECRET, key)
        except throttle.Throttled:  # an expected answer (429, one log line), not an error with a traceback
            return throttle.refused(request, throttle.CLIENT_SECRET, key)
        if _has_nul(request, client_id):
            # PostgreSQL cannot even compare a string holding NUL; DOT would answer 500.
            return JsonResponse({"error": "invalid_request", "error_description": "malformed parameter"}, status=400)
        response = super().post(request, *args, **kwargs)
        if response.status_code == 401:  # invalid_client: a wrong secret (or an unknown client ID)
            throttle.failed(request, throttle.CLIENT_SECRET, key)
        elif response.status_code == 200 and client_id:
            throttle.succeeded(request, throttle.CLIENT_SECRET, client_id)
        return response
