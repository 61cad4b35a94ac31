"""Admin for lockouts: list and clear. Org admins see and clear their own members' account lockouts."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from jeto_identity.audit import services as audit
from jeto_identity.core import access
from jeto_identity.models import Lockout
from jeto_identity.orgadmin.base import OrgScopedAdminMixin, ReadOnlyAdminMixin


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
        from jeto_identity.throttle import services as throttle

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
