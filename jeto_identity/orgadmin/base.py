"""Base classes for org-scoped Django admin, used by every feature's admin.

Platform superusers see everything. An org admin (staff, with an owner/admin membership) sees and changes only
the organisations they administer and what belongs to them; objects outside their scope answer 404 even when
their URL is typed. Permission comes from the membership, not Django's model permissions, so there is nothing
for a platform admin to keep in sync.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.contenttypes.models import ContentType
from django.contrib.contenttypes.views import shortcut
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse

from jeto_identity.core import access
from jeto_identity.models import (
    Organization,
    User,
)


class OrgScopedAdminMixin:
    """Scope a ModelAdmin to the organisations the signed-in org admin runs.

    ``org_lookup`` is the ORM path from the model to its Organization's primary key.
    """

    org_lookup = "organization"
    org_admins_may_add = True
    org_admins_may_delete = True

    def scope_queryset(self, request: HttpRequest, qs: QuerySet) -> QuerySet:
        return qs.filter(**{f"{self.org_lookup}__in": access.administered_org_ids(request.user)})

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else self.scope_queryset(request, qs)

    def in_scope(self, request: HttpRequest, obj: Any) -> bool:
        return self.scope_queryset(request, type(obj)._default_manager.filter(pk=obj.pk)).exists()

    def _org_admin_may(self, request: HttpRequest, obj: Any = None) -> bool:
        return access.is_org_admin(request.user) and (obj is None or self.in_scope(request, obj))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or access.is_org_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser or self._org_admin_may(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser or self._org_admin_may(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser or (self.org_admins_may_add and access.is_org_admin(request.user))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser or (self.org_admins_may_delete and self._org_admin_may(request, obj))

    def _raise_404_unless_in_scope(self, request: HttpRequest, object_id: str) -> None:
        if self.get_object(request, unquote(object_id)) is None:
            raise Http404("No such object.")

    def delete_view(self, request: HttpRequest, object_id: str, extra_context: dict | None = None):
        self._raise_404_unless_in_scope(request, object_id)
        return super().delete_view(request, object_id, extra_context)

    def history_view(self, request: HttpRequest, object_id: str, extra_context: dict | None = None):
        self._raise_404_unless_in_scope(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def _get_obj_does_not_exist_redirect(self, request: HttpRequest, opts: Any, object_id: str):
        # Out of scope and nonexistent look the same: a plain 404, not a hint in a redirect message.
        raise Http404("No such object.")

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs: Any):
        if not request.user.is_superuser:
            if db_field.related_model is Organization:
                kwargs["queryset"] = access.administered_organizations(request.user)
            elif db_field.related_model is User:
                kwargs["queryset"] = access.visible_users(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


def view_on_site(request: HttpRequest, content_type_id: int, object_id: str) -> HttpResponse:
    """The admin's "view on site" redirector (``admin/r/<content type>/<id>/``), scoped; hosts mount it there.

    Django's own view looks the object up across every organisation (its 404 or redirect tells whether an ID
    exists), and answers 500 for a malformed UUID. This one answers the same 404 unless the signed-in admin may
    view the object in its ModelAdmin and the object has a page.
    """
    try:
        model = ContentType.objects.get_for_id(content_type_id).model_class()
    except ContentType.DoesNotExist:
        model = None
    model_admin = admin.site.get_model_admin(model) if model and admin.site.is_registered(model) else None
    obj = model_admin.get_object(request, unquote(object_id)) if model_admin else None
    if obj is None or not model_admin.has_view_permission(request, obj) or not hasattr(obj, "get_absolute_url"):
        raise Http404("No such page.")
    return shortcut(request, content_type_id, object_id)


class SystemRecordAdminMixin:
    """Rows the system writes (links, audit events, lockouts): viewable, never added or edited by hand.

    Put it before ``OrgScopedAdminMixin`` in the bases, whose permissions it narrows.
    """

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdminMixin(SystemRecordAdminMixin):
    """A system record that is not deleted by hand either (the cleanup command removes old ones)."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
