"""django-csp's middleware, with the site-wide policy built once instead of on every response.

django-csp 4 rebuilds the ``Content-Security-Policy`` header string from settings for each response, which
costs more CPU than a cached bearer-token check. When a response carries nothing request-specific (no nonce
was used, no ``csp_update``/``csp_replace``/``csp_override`` decorator), its policy is the settings' policy:
this serves that from a cache, rebuilt when the settings change (tests' ``override_settings``). Everything
else, including exemptions, excluded prefixes and report-only, behaves exactly as django-csp's.

Leans on django-csp 4's internals: the response attributes its decorators set (``_csp_update`` …), the request's
``_csp_nonce``, ``csp.utils.build_policy`` and ``CheckableLazyObject``. Use
``jeto_identity.contrib.fastpaths.csp.CSPMiddleware`` in place of ``csp.middleware.CSPMiddleware``.
"""

from __future__ import annotations

import http.client as http_client
from functools import cache

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.http import HttpRequest
from django.http.response import HttpResponseBase

_PER_RESPONSE = ("_csp_config", "_csp_update", "_csp_replace", "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro")
_HEADERS = ((HEADER, False, "_csp_exempt"), (HEADER_REPORT_ONLY, True, "_csp_exempt_ro"))
_DEBUG_EXEMPT = (http_client.INTERNAL_SERVER_ERROR, http_client.NOT_FOUND)


@cache
def _site_policy(report_only: bool) -> tuple[str, tuple[str, ...]]:
    """(header value, excluded path prefixes) for the settings' policy."""
    config = getattr(
        settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY" if report_only else "CONTENT_SECURITY_POLICY", None
    )
    prefixes = tuple((config or {}).get("EXCLUDE_URL_PREFIXES", None) or ())
    return build_policy(report_only=report_only), prefixes


def _forget_policy(setting: str, **kwargs) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _site_policy.cache_clear()


setting_changed.connect(_forget_policy, dispatch_uid="jeto_csp_policy")


class CSPMiddleware(BaseCSPMiddleware):
    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if getattr(request, "_csp_nonce", None) is not None or any(hasattr(response, a) for a in _PER_RESPONSE):
            return super().process_response(request, response)
        if response.status_code in _DEBUG_EXEMPT and settings.DEBUG:
            return response
        for header, report_only, exempt in _HEADERS:
            policy, excluded = _site_policy(report_only)
            if (
                policy
                and header not in response
                and getattr(response, exempt, False) is False
                and not request.path_info.startswith(excluded)
            ):
                response[header] = policy
        # As django-csp: a nonce asked for after the header is written is an error, not a silently missing nonce.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
