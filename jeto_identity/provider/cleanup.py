"""Housekeeping for the provider's own rows (django-oauth-toolkit's `cleartokens` handles its token tables)."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Exists, OuterRef
from django.utils import timezone
from oauth2_provider.models import get_refresh_token_model

from jeto_identity.models import AuthenticationContext

# Codes live a minute; a day later an unredeemed code's context, or one whose tokens are all gone, is useless.
MIN_AGE = timedelta(days=1)


def clear_stale_contexts(now=None) -> int:
    """Delete authentication contexts older than a day with no live refresh token in their family."""
    now = now or timezone.now()
    live = get_refresh_token_model().objects.filter(token_family=OuterRef("token_family"), revoked__isnull=True)
    stale = AuthenticationContext.objects.filter(created_at__lt=now - MIN_AGE).exclude(Exists(live))
    deleted, _ = stale.delete()
    return deleted
