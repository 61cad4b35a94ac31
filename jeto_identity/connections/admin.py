"""Application connections in Django admin: org admins issue, list, rotate and revoke their own clients.

A secret is rendered once, in the response to the POST that created or rotated it (never stored in a message,
the session or a log), on a page that says it will not be shown again and is sent with ``Cache-Control: no-store``.
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

from jeto_identity.connections import services as clients
from jeto_identity.models import ApplicationConnection
from jeto_identity.orgadmin import plans
from jeto_identity.orgadmin.base import OrgScopedAdminMixin

SECRET_TEMPLATE = "admin/jeto_identity/applicationconnection/secret.html"
CONFIRM_TEMPLATE = "admin/jeto_identity/applicationconnection/confirm.html"


class ApplicationConnectionForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple, help_text="What the application may do with the Jeto API."
    )

    class Meta:
        model = ApplicationConnection
        fields = ["name", "organization", "description", "access_token_lifetime", "enabled"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scopes"].choices = [(k, f"{k} — {v}") for k, v in clients.api_scopes().items()]
        if self.instance.pk:
            self.initial["scopes"] = (self.instance.allowed_scopes or "").split()
        if "name" in self.fields:
            self.fields["name"].required = True
        if "organization" in self.fields:
            self.fields["organization"].required = True
        if "access_token_lifetime" in self.fields:
            self.fields["access_token_lifetime"].widget.attrs["min"] = 60
            self.fields["access_token_lifetime"].validators.append(_min_lifetime)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("scopes") is not None:
            self.instance.allowed_scopes = clients.clean_scopes(data["scopes"])
        if self.instance.pk is None and data.get("organization") is not None:
            try:  # the plan: the API Integrations programme approved, and under its cap of clients
                plans.check_api_client_allowed(data["organization"])
            except PermissionDenied as exc:
                self.add_error(None, str(exc))
        return data


def _min_lifetime(value: int | None) -> None:
    if value is not None and not 60 <= value <= 24 * 3600:
        raise forms.ValidationError("Between 60 seconds and 24 hours.")


@admin.register(ApplicationConnection)
class ApplicationConnectionAdmin(OrgScopedAdminMixin, admin.ModelAdmin):
    form = ApplicationConnectionForm
    list_display = ["name", "organization", "client_id", "allowed_scopes", "enabled", "last_used_at", "created"]
    list_filter = ["enabled"]
    search_fields = ["name", "client_id", "organization__name"]
    change_form_template = "admin/jeto_identity/applicationconnection/change_form.html"
    view_on_site = False  # DOT's get_absolute_url points at its application pages, which are not mounted
    fieldsets_add = [(None, {"fields": ["name", "organization", "description", "scopes", "access_token_lifetime"]})]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None):
        if obj is None:
            return self.fieldsets_add
        return [
            (None, {"fields": ["name", "organization", "client_id", "description", "scopes"]}),
            ("Tokens", {"fields": ["access_token_lifetime", "enabled"]}),
            (
                "History",
                {
                    "fields": [
                        "created_by",
                        "created",
                        "last_used_at",
                        "secret_rotated_at",
                        "previous_secret_expires_at",
                    ]
                },
            ),
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None):
        if obj is None:
            return []
        return [
            "organization",
            "client_id",
            "created_by",
            "created",
            "last_used_at",
            "secret_rotated_at",
            "previous_secret_expires_at",
        ]

    def save_model(self, request: HttpRequest, obj: ApplicationConnection, form, change: bool) -> None:
        if not change:
            if not (request.user.is_superuser or obj.organization_id in clients_org_ids(request)):
                raise PermissionDenied
            plans.check_api_client_allowed(obj.organization)  # the form said so; this holds whatever the form did
            # Kept on the request object only, for response_add to render once.
            request._jeto_issued_secret = clients.prepare_connection(obj, created_by=request.user)
        super().save_model(request, obj, form, change)

    def get_deleted_objects(self, objs, request: HttpRequest):
        """A connection's tokens and grants go with it: no separate permission on DOT's token models needed."""
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        token_names = {str(m._meta.verbose_name) for m in _token_models()}
        return deleted, model_count, {p for p in perms_needed if str(p) not in token_names}, protected

    def response_add(self, request: HttpRequest, obj: ApplicationConnection, post_url_continue=None):
        secret = getattr(request, "_jeto_issued_secret", None)
        if secret is None:  # pragma: no cover - save_model always sets it
            return super().response_add(request, obj, post_url_continue)
        return self._secret_page(request, obj, secret, created=True)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("<path:object_id>/rotate/", wrap(self.rotate_view), name=f"{prefix}_rotate"),
            path("<path:object_id>/revoke/", wrap(self.revoke_view), name=f"{prefix}_revoke"),
            *super().get_urls(),
        ]

    def _changeable(self, request: HttpRequest, object_id: str) -> ApplicationConnection:
        obj = self.get_object(request, unquote(object_id))
        if obj is None or not self.has_change_permission(request, obj):
            raise Http404("No such object.")
        return obj

    def _change_url(self, obj: ApplicationConnection) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk])

    def rotate_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self._changeable(request, object_id)
        if request.method == "POST":
            grace = 0 if request.POST.get("end_old_secret_now") else None
            issued = clients.rotate_secret(obj, grace_seconds=grace)
            self.log_change(request, obj, [{"changed": {"fields": ["client secret (rotated)"]}}])
            return self._secret_page(request, obj, issued.client_secret, created=False)
        return self._confirm_page(request, obj, "rotate")

    def revoke_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self._changeable(request, object_id)
        if request.method == "POST":
            count = clients.revoke_client(obj)
            self.log_change(request, obj, [{"changed": {"fields": ["enabled (revoked)"]}}])
            self.message_user(
                request,
                f"“{obj.name}” is disabled and its {count} outstanding token(s) no longer work.",
                messages.SUCCESS,
            )
            return HttpResponseRedirect(self._change_url(obj))
        return self._confirm_page(request, obj, "revoke")

    def _confirm_page(self, request: HttpRequest, obj: ApplicationConnection, action: str) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "action": action,
            "title": f"{'Rotate the secret of' if action == 'rotate' else 'Revoke'} “{obj.name}”",
            "grace_hours": round(clients.grace_seconds() / 3600, 1),
            "change_url": self._change_url(obj),
        }
        return TemplateResponse(request, CONFIRM_TEMPLATE, context)

    def _secret_page(self, request: HttpRequest, obj: ApplicationConnection, secret: str, created: bool):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "title": "Copy the client secret now",
            "client_id": obj.client_id,
            "client_secret": secret,
            "created": created,
            "grace_until": None if created else obj.previous_secret_expires_at,
            "token_url": request.build_absolute_uri("/o/token/"),
            "change_url": self._change_url(obj),
        }
        response = TemplateResponse(request, SECRET_TEMPLATE, context)
        response["Cache-Control"] = "no-store"
        response["Pragma"] = "no-cache"
        return response


def _token_models() -> list:
    from oauth2_provider import models as dot

    return [
        dot.get_access_token_model(),
        dot.get_refresh_token_model(),
        dot.get_id_token_model(),
        dot.get_grant_model(),
        dot.get_device_grant_model(),
    ]


def clients_org_ids(request: HttpRequest) -> frozenset[int]:
    from jeto_identity.core import access

    return access.administered_org_ids(request.user)


from jeto_identity.connections import programme_admin  # noqa: E402,F401  (registers the programme's admin)
