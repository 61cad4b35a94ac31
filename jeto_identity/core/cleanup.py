"""Delete expired OAuth tokens and grants, old audit events and expired lockout rows in short batches.

Each batch is one small transaction that selects up to ``batch_size`` primary keys (walking the primary key
index from where the last batch stopped, so deleted rows are never rescanned) and deletes them. No statement
holds locks on more than one batch, and nothing counts the whole table, which is what makes
django-oauth-toolkit's ``cleartokens`` slow at millions of rows (it runs ``COUNT(*)`` over the remaining rows
before every batch). Which tokens are expired follows ``oauth2_provider.models.clear_expired`` exactly.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from oauth2_provider.models import (
    get_access_token_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
    refresh_token_expire_timedelta,
)
from oauth2_provider.settings import oauth2_settings

from jeto_identity.conf import jeto_settings
from jeto_identity.models import AuditEvent, Lockout

DEFAULT_BATCH_SIZE = 5000


def delete_in_batches(
    queryset: QuerySet,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    pause: float = 0.0,
    progress: Callable[[int], None] | None = None,
    raw: bool | None = None,
) -> int:
    """Delete every row of ``queryset`` a batch at a time; returns how many rows of its model went.

    ``raw`` deletes with one SQL ``DELETE`` per batch instead of Django's collector (which loads every row to
    cascade and send signals). It is the default for models nothing refers to; pass it explicitly only when
    the queryset's own condition guarantees no row is referred to (expired access tokens without a refresh
    token). Rows with referrers go through the ORM so ``SET_NULL``/``CASCADE`` are honoured.
    """
    model = queryset.model
    label = model._meta.label
    if raw is None:
        raw = not model._meta.related_objects
    total = 0
    last_pk = None
    while True:
        page = queryset.order_by("pk")
        if last_pk is not None:
            page = page.filter(pk__gt=last_pk)
        pks = list(page.values_list("pk", flat=True)[:batch_size])
        if not pks:
            return total
        with transaction.atomic(using=queryset.db):
            # The condition is applied again: a row that stopped matching since the SELECT is kept.
            batch = queryset.filter(pk__in=pks)
            if raw:
                total += batch._raw_delete(batch.db)
            else:
                _, per_model = batch.delete()
                total += per_model.get(label, 0)
        last_pk = pks[-1]
        if progress:
            progress(total)
        if len(pks) < batch_size:
            return total
        if pause:
            time.sleep(pause)


def expired_token_querysets(now=None) -> Iterator[tuple[str, QuerySet, bool | None]]:
    """The same selections as django-oauth-toolkit's ``clear_expired``, in the same order, with ``raw``."""
    now = now or timezone.now()
    refresh = get_refresh_token_model().objects
    grace = oauth2_settings.REFRESH_TOKEN_GRACE_PERIOD_SECONDS
    refresh_revoked_at = now - timedelta(seconds=grace) if grace else now
    expire_delta = refresh_token_expire_timedelta()
    refresh_expire_at = now - expire_delta if expire_delta else None
    if oauth2_settings.REFRESH_TOKEN_REUSE_PROTECTION:
        refresh_revoked_at = refresh_expire_at
    if refresh_revoked_at:
        yield "revoked refresh tokens", refresh.filter(revoked__lte=refresh_revoked_at), None
    yield "orphaned refresh tokens", refresh.filter(revoked__isnull=True, access_token__isnull=True), None
    if refresh_expire_at:
        yield (
            "expired refresh tokens",
            refresh.filter(revoked__isnull=True, access_token__expires__lte=refresh_expire_at),
            None,
        )
    # No refresh token refers to these (that is the condition), so one DELETE per batch is safe. NOT EXISTS
    # rather than DOT's LEFT JOIN (``refresh_token__isnull``) keeps the DELETE on the primary-key index:
    # with a join Django deletes through a subquery that PostgreSQL answers with a full table scan per batch.
    refresh_tokens = get_refresh_token_model().objects.filter(access_token=OuterRef("pk"))
    access = get_access_token_model().objects.filter(~Exists(refresh_tokens), expires__lt=now)
    yield "expired access tokens", access, True
    yield (
        "expired ID tokens",
        get_id_token_model().objects.filter(access_token__isnull=True, expires__lt=now),
        None,
    )
    yield "expired grants", get_grant_model().objects.filter(expires__lt=now), None


def old_audit_events(now=None) -> QuerySet | None:
    days = int(jeto_settings.AUDIT_RETENTION_DAYS or 0)
    if days <= 0:
        return None
    return AuditEvent.objects.filter(time__lt=(now or timezone.now()) - timedelta(days=days))


def expired_lockouts(now=None) -> QuerySet:
    return Lockout.objects.filter(locked_until__lt=now or timezone.now())


def stale_sessions(now=None) -> QuerySet:
    """Session-registry rows nobody can use any more: ended, or unseen for longer than a session cookie lives."""
    from django.conf import settings
    from django.db.models import Q

    from jeto_identity.core.sessions import UserSession

    now = now or timezone.now()
    unseen = now - timedelta(seconds=int(settings.SESSION_COOKIE_AGE))
    return UserSession.objects.filter(Q(ended_at__lt=now - timedelta(days=1)) | Q(last_seen_at__lt=unseen))
