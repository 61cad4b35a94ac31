"""Admin for the audit log: read-only, org-scoped, CSV export.

Org admins see their organisations' events; superusers see everything. Nobody can add, edit or delete an audit
event here: retention is the cleanup command's job.
"""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from jeto_identity.audit import services as audit
from jeto_identity.core import access
from jeto_identity.models import AuditEvent
from jeto_identity.orgadmin.base import OrgScopedAdminMixin, ReadOnlyAdminMixin

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
