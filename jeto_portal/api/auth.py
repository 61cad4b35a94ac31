"""Bearer authentication for the Jeto API (RFC 6750), without sessions or CSRF.

A request carries ``Authorization: Bearer <token>`` (the only accepted transport: never the query string or the
body, RFC 9700 §4.3.2). Errors follow RFC 6750 §3: 401 with ``WWW-Authenticate: Bearer`` and no error code when
no credentials came, 400 ``invalid_request`` when they are malformed, 401 ``invalid_token`` when the token is
unknown, expired or revoked, 403 ``insufficient_scope`` when it lacks the scope.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.www_authenticate import build_bearer_challenge

from jeto_portal.api import bearer

REALM = "jeto-api"
# RFC 6750 §2.1 b64token.
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
MAX_TOKEN_LENGTH = 512


def error_response(
    request: HttpRequest, status: int, error: str | None = None, description: str = "", scope: str = ""
) -> JsonResponse:
    params: dict[str, str] = {}
    if error:
        params["error"] = error
        if description:
            params["error_description"] = description
        if scope:
            params["scope"] = scope
    body = {"error": error or "unauthorized", "error_description": description or "Bearer token required."}
    response = JsonResponse(body, status=status)
    response["WWW-Authenticate"] = build_bearer_challenge(
        request, params or None, realm=REALM, resource_metadata_url=None
    )
    response["Cache-Control"] = "no-store"
    return response


def parse_bearer(request: HttpRequest) -> tuple[str | None, JsonResponse | None]:
    """The token from the Authorization header, or the RFC 6750 error response to send instead."""
    if "access_token" in request.GET:
        return None, error_response(
            request, 400, "invalid_request", "Send the token in the Authorization header, not the URL."
        )
    header = request.META.get("HTTP_AUTHORIZATION")
    if header is None:
        return None, error_response(request, 401)
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None, error_response(request, 401)
    if not token or len(token) > MAX_TOKEN_LENGTH or not _B64TOKEN.fullmatch(token):
        return None, error_response(request, 400, "invalid_request", "Malformed Authorization header.")
    return token, None


def require_scope(scope: str | None) -> Callable:
    """Protect an API view: ``request.api_token`` (a TokenInfo) is set for the view; ``scope`` may be None."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            token, problem = parse_bearer(request)
            if problem is not None:
                return problem
            info = bearer.authenticate(token)
            if info is None:
                return error_response(request, 401, "invalid_token", "The access token is invalid or has expired.")
            if not info.allows(scope):
                return error_response(
                    request,
                    403,
                    "insufficient_scope",
                    f"This call needs the {scope} scope.",
                    scope=scope or "",
                )
            request.api_token = info
            return view(request, *args, **kwargs)

        wrapped.required_scope = scope  # read by the OpenAPI test
        return csrf_exempt(wrapped)

    return decorator
