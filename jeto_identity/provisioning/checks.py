"""System checks for SCIM provisioning (IDs E601–E629, W601–W629; docs/integrators.md)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

from jeto_identity.conf import jeto_settings

LOCMEM = "django.core.cache.backends.locmem.LocMemCache"


@checks.register(checks.Tags.security)
def check_scim_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    value = jeto_settings.SCIM_REQUESTS_PER_MINUTE
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        messages.append(
            checks.Error(
                f"JETO_IDENTITY['SCIM_REQUESTS_PER_MINUTE'] must be a whole number >= 0 (0: unlimited), not {value!r}.",
                id="jeto_identity.E601",
            )
        )
    return messages


@checks.register(checks.Tags.security, deploy=True)
def check_scim_rate_limit_shared(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if jeto_settings.SCIM_REQUESTS_PER_MINUTE and backend == LOCMEM:
        return [
            checks.Warning(
                "The SCIM rate limit counts in the local-memory cache: each web node counts on its own.",
                hint="Use a shared cache (Redis) as the default cache in production.",
                id="jeto_identity.W601",
            )
        ]
    return []
