"""SCIM in Django admin: org admins issue, rotate and revoke their organisation's tokens, and see what was provisioned.

A token is rendered once, in the response to the POST that issued or rotated it (``Cache-Control: no-store``);
only its hash and first characters are stored. Provisioned users and groups are system records: read-only.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from jeto_identity.core import access
from jeto_identity.orgadmin.base import OrgScopedAdminMixin, SystemRecordAdminMixin
from jeto_identity.provisioning import policy, tokens
from jeto_identity.provisioning.models import ScimGroup, ScimToken, ScimUser

TOKEN_TEMPLATE = "admin/jeto_identity/scimtoken/token.html"
CONFIRM_TEMPLATE = "admin/jeto_identity/scimtoken/confirm.html"


class ScimTokenForm(forms.ModelForm):
    class Meta:
        model = ScimToken
        fields = ["name", "organization"]

    def clean_organization(self):
        organization = self.cleaned_data["organization"]
        if organization is not None and not policy.scim_allowed(organization):
            raise forms.ValidationError("This organisation's plan does not include SCIM provisioning.")
        return organization


@admin.register(ScimToken)
class ScimTokenAdmin(OrgScopedAdminMixin, admin.ModelAdmin):
    form = ScimTokenForm
    list_display = ["name", "organization", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "organization__name"]
    change_form_template = "admin/jeto_identity/scimtoken/change_form.html"
    view_on_site = False

    def get_fields(self, request: HttpRequest, obj: Any = None):
        if obj is None:
            return ["name", "organization"]
        return ["name", "organization", "prefix", "created_by", "created_at", "last_used_at", "revoked_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None):
        if obj is None:
            return []
        return ["organization", "prefix", "created_by", "created_at", "last_used_at", "revoked_at"]

    def save_model(self, request: HttpRequest, obj: ScimToken, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        if not (request.user.is_superuser or obj.organization_id in access.administered_org_ids(request.user)):
            raise PermissionDenied
        issued = tokens.issue(obj.organization, obj.name, created_by=request.user)
        obj.pk = issued.token.pk
        obj.refresh_from_db()
        request._jeto_issued_scim_token = issued.secret  # kept on the request only, for response_add

    def response_add(self, request: HttpRequest, obj: ScimToken, post_url_continue=None):
        return self._token_page(request, obj, request._jeto_issued_scim_token, created=True)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("<path:object_id>/rotate/", wrap(self.rotate_view), name=f"{prefix}_rotate"),
            path("<path:object_id>/revoke/", wrap(self.revoke_view), name=f"{prefix}_revoke"),
            *super().get_urls(),
        ]

    def _changeable(self, request: HttpRequest, object_id: str) -> ScimToken:
        obj = self.get_object(request, unquote(object_id))
        if obj is None or not self.has_change_permission(request, obj) or not obj.is_active:
            raise Http404("No such object.")
        return obj

    def _change_url(self, obj: ScimToken) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk])

    def rotate_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self._changeable(request, object_id)
        if request.method == "POST":
            issued = tokens.rotate(obj, actor=request.user)
            self.log_change(request, obj, [{"changed": {"fields": ["token (rotated)"]}}])
            return self._token_page(request, issued.token, issued.secret, created=False)
        return self._confirm_page(request, obj, "rotate")

    def revoke_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self._changeable(request, object_id)
        if request.method == "POST":
            tokens.revoke(obj, actor=request.user)
            self.log_change(request, obj, [{"changed": {"fields": ["revoked"]}}])
            self.message_user(request, f"“{obj.name}” no longer works.", messages.SUCCESS)
            return HttpResponseRedirect(self._change_url(obj))
        return self._confirm_page(request, obj, "revoke")

    def _confirm_page(self, request: HttpRequest, obj: ScimToken, action: str) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "action": action,
            "title": f"{'Rotate' if action == 'rotate' else 'Revoke'} “{obj.name}”",
            "change_url": self._change_url(obj),
        }
        return TemplateResponse(request, CONFIRM_TEMPLATE, context)

    def _token_page(self, request: HttpRequest, obj: ScimToken, secret: str, created: bool) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "title": "Copy the SCIM token now",
            "secret": secret,
            "created": created,
            "base_url": request.build_absolute_uri(reverse("jeto_identity:scim-root")).rstrip("/"),
            "change_url": self._change_url(obj),
        }
        response = TemplateResponse(request, TOKEN_TEMPLATE, context)
        response["Cache-Control"] = "no-store"
        response["Pragma"] = "no-cache"
        return response


@admin.register(ScimUser)
class ScimUserAdmin(SystemRecordAdminMixin, OrgScopedAdminMixin, admin.ModelAdmin):
    list_display = ["user_name", "organization", "external_id", "active", "managed", "updated_at"]
    list_filter = ["active", "managed"]
    search_fields = ["user_name", "external_id"]
    fields = [
        "user_name",
        "organization",
        "user",
        "external_id",
        "display_name",
        "active",
        "managed",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    view_on_site = False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deprovisioning is the IdP's (DELETE or active: false), which also signs the person out


@admin.register(ScimGroup)
class ScimGroupAdmin(SystemRecordAdminMixin, OrgScopedAdminMixin, admin.ModelAdmin):
    list_display = ["display_name", "organization", "external_id", "updated_at"]
    search_fields = ["display_name", "external_id"]
    fields = ["display_name", "organization", "external_id", "member_list", "created_at", "updated_at"]
    readonly_fields = fields
    view_on_site = False

    @admin.display(description="members")
    def member_list(self, obj: ScimGroup) -> str:
        return ", ".join(m.user_name for m in obj.members.all()) or "—"

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
