"""Admin for the audit log (read-only, org-scoped, CSV export) and for lockouts (list and clear).

Imported by ``admin.py``. Org admins see their organisations' events and their members' lockouts; superusers
see everything. Nobody can add, edit or delete an audit event here: retention is the cleanup command's job.
"""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from .admin import OrgScopedAdminMixin, ReadOnlyAdminMixin
from .models import AuditEvent, Lockout
from .services import access, audit

CSV_COLUMNS = [
    "time",
    "event",
    "outcome",
    "actor",
    "actor_id",
    "organization",
    "organization_id",
    "subject",
    "subject_id",
    "ip_address",
    "user_agent",
    "details",
]


def _csv_cell(value: Any) -> str:
    """Neutralise spreadsheet formulas (CSV injection): user-controlled text never starts with = + - @."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class EventTypeFilter(admin.SimpleListFilter):
    title = "event"
    parameter_name = "event"

    def lookups(self, request, model_admin):
        return sorted(audit.EVENTS.items(), key=lambda kv: kv[1])

    def queryset(self, request, queryset):
        return queryset.filter(event=self.value()) if self.value() else queryset


class OrganizationFilter(admin.SimpleListFilter):
    title = "organisation"
    parameter_name = "org"

    def lookups(self, request, model_admin):
        return [(str(o.pk), o.name) for o in access.administered_organizations(request.user)]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(organization_id=int(value)) if value and value.isdigit() else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, OrgScopedAdminMixin, admin.ModelAdmin):
    org_lookup = "organization_id"
    list_display = ["time", "event_label", "outcome", "actor", "subject", "organization", "ip_address", "how"]
    list_filter = [EventTypeFilter, "outcome", OrganizationFilter, "time"]
    search_fields = ["actor", "subject", "organization", "ip_address", "user_agent", "event"]
    date_hierarchy = "time"
    list_per_page = 100
    show_full_result_count = False  # COUNT(*) over a big log on every page view is the slow part
    actions = ["export_csv"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def scope_queryset(self, request: HttpRequest, qs: QuerySet) -> QuerySet:
        org_ids = access.administered_org_ids(request.user)
        members = access.visible_users(request.user).values("pk")
        # Events of their organisations, plus their members' events that belong to no organisation.
        return qs.filter(Q(organization_id__in=org_ids) | Q(organization_id__isnull=True, subject_id__in=members))

    @admin.display(description="event", ordering="event")
    def event_label(self, obj: AuditEvent) -> str:
        return audit.EVENTS.get(obj.event, obj.event)

    @admin.display(description="how")
    def how(self, obj: AuditEvent) -> str:
        details = obj.details or {}
        return str(details.get("method") or details.get("via") or details.get("reason") or "")

    @admin.action(description="Export selected events as CSV")
    def export_csv(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="audit-{timezone.now():%Y%m%d-%H%M%S}.csv"'
        writer = csv.writer(response)
        writer.writerow(CSV_COLUMNS)
        for row in queryset.order_by("-time", "-id").iterator(chunk_size=2000):
            writer.writerow([_csv_cell(getattr(row, c)) for c in CSV_COLUMNS])
        return response


class ActiveLockoutFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("active", "Locked now"), ("expired", "Expired")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "active":
            return queryset.filter(locked_until__gt=now)
        if self.value() == "expired":
            return queryset.filter(locked_until__lte=now)
        return queryset


@admin.register(Lockout)
class LockoutAdmin(ReadOnlyAdminMixin, OrgScopedAdminMixin, admin.ModelAdmin):
    """Current and recent lockouts; "Clear" lifts them on every node (the counters are in the shared cache)."""

    list_display = ["username", "ip_address", "user", "failures", "locked_at", "locked_until", "is_active"]
    list_filter = [ActiveLockoutFilter]
    search_fields = ["username", "ip_address"]
    actions = ["clear_lockouts"]
    readonly_fields = ["username", "ip_address", "user", "failures", "locked_at", "locked_until"]

    def scope_queryset(self, request: HttpRequest, qs: QuerySet) -> QuerySet:
        return qs.filter(user__in=access.visible_users(request.user))

    @admin.display(boolean=True, description="locked now")
    def is_active(self, obj: Lockout) -> bool:
        return obj.active

    @admin.action(description="Clear selected lockouts")
    def clear_lockouts(self, request: HttpRequest, queryset: QuerySet) -> None:
        from .services import throttle

        superuser = request.user.is_superuser
        count = 0
        for row in self.get_queryset(request).filter(pk__in=queryset.values("pk")):
            # Org admins lift the account's lock only: the address counter spans every organisation.
            throttle.clear(username=row.username, ip_address=row.ip_address if superuser else None)
            audit.record(
                audit.LOCKOUT_CLEARED,
                request=request,
                subject=row.user or row.username,
                organization=audit.organization_for(row.user, row.username),
                cleared="account and address" if superuser else "account",
            )
            row.delete()
            count += 1
        messages.success(request, f"Cleared {count} lockout(s).")
