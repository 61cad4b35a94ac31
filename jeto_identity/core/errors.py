"""Error answers: the lockout page (django-axes' ``AXES_LOCKOUT_CALLABLE``) and a ``handler500`` that turns
"database or cache down" into a 503 even when the failure happened outside a view."""

from __future__ import annotations

import math
import sys

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader

from jeto_identity.core.outage import is_outage, outage_response, wants_json


def locked_out(request: HttpRequest, original_response: HttpResponse | None = None, credentials=None) -> HttpResponse:
    """One answer for every lockout: known or unknown account, by account or by address (no enumeration)."""
    from jeto_identity.throttle.services import lockout_seconds  # django-axes is installed when this is called

    seconds = lockout_seconds()
    if wants_json(request):
        response: HttpResponse = JsonResponse(
            {"error": "too_many_requests", "error_description": "Too many failed attempts. Try again later."},
            status=429,
        )
    else:
        minutes = max(1, math.ceil(seconds / 60))
        response = render(request, "jeto_identity/throttle/locked_out.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(seconds)
    response["Cache-Control"] = "no-store"
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: a 503 for outages (see ``ServiceUnavailableMiddleware``), otherwise a plain 500 page."""
    kind = is_outage(sys.exc_info()[1])
    if kind is not None:
        return outage_response(request, kind)
    body = loader.select_template(["500.html", "jeto_identity/errors/500.html"]).render({})
    return HttpResponse(body, status=500)
