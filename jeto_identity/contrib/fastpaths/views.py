"""DOT's token endpoint sending ``app_authorized`` with the access token the validator just created, instead of
reading it back from the database by checksum (one round trip less per grant)."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from oauth2_provider import views as oauth2_views
from oauth2_provider.signals import app_authorized

# The token view below reuses the AccessToken the validator just created (DOT's own view reads it back from the
# database by checksum only to send ``app_authorized``): one round trip less per grant.
_issued_tokens: ContextVar[list | None] = ContextVar("jeto_issued_tokens", default=None)


def remember_issued(access_token: Any) -> None:
    """Hand an access token created during the current token request to the token view."""
    bucket = _issued_tokens.get()
    if bucket is not None:
        bucket.append(access_token)


class IssuedTokenCaptureMixin:
    """Validator side: remember access tokens created during the current token request."""

    def _create_access_token(self, expires, request, token, source_refresh_token=None):
        access_token = super()._create_access_token(expires, request, token, source_refresh_token)
        remember_issued(access_token)
        return access_token


class TokenView(oauth2_views.TokenView):
    """DOT's token endpoint, sending ``app_authorized`` with the token already in hand."""

    @method_decorator(sensitive_post_parameters("password", "client_secret"))
    def authorization_flow_token_response(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        bucket: list = []
        reset = _issued_tokens.set(bucket)
        try:
            url, headers, body, status = self.create_token_response(request)
        finally:
            _issued_tokens.reset(reset)
        if status == 200:
            if bucket:
                app_authorized.send(sender=self, request=request, token=bucket[-1])
            else:  # not created by this validator (e.g. reused on refresh): DOT's way
                return super().authorization_flow_token_response(request, *args, **kwargs)
        response = HttpResponse(content=body, status=status)
        for key, value in headers.items():
            response[key] = value
        return response
