"""Org-scoped admin for SSO connections and federated identities.

The client secret is write-only: the form has an empty password input, stored encrypted, never rendered back.
The redirect URI to register at the IdP is shown on the add page already (the connection's id is chosen when the
form is first shown), so an admin can create the IdP application before saving.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse

from jeto_identity.core import access
from jeto_identity.models import FederatedIdentity, Organization, SSOConnection
from jeto_identity.orgadmin import plans
from jeto_identity.orgadmin.base import OrgScopedAdminMixin, SystemRecordAdminMixin
from jeto_identity.sso import http
from jeto_identity.sso.models import OIDC, PROVISIONABLE_ROLES, normalize_issuer
from jeto_identity.sso.oidc import metadata

ROLE_VALUES = {value for value, _ in PROVISIONABLE_ROLES}
PLAN_REFUSED = "plan"


class ConnectionForm(forms.ModelForm):
    """What every connection type's admin form shares: the connection ID drawn on the add page (hidden, so the
    IdP's admin can be given our URLs before the first save), the role mapping, and the plan's rule for a new
    connection (SSO included, under its cap: every type counted)."""

    ROLE_SOURCE = "claim value"  # what the role mapping's keys are, for its error message

    connection_id = forms.UUIDField(
        widget=forms.HiddenInput,
        required=False,
        error_messages={"invalid": "This form was altered. Reload the add page and try again."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields.pop("connection_id", None)
        elif not self.is_bound:
            self.initial["connection_id"] = uuid.uuid4()

    def clean_connection_id(self) -> uuid.UUID:
        value = self.cleaned_data.get("connection_id") or uuid.uuid4()
        if SSOConnection._base_manager.filter(public_id=value).exists():  # one table for every type
            # A hidden field's error would be invisible: report it on the form.
            self.add_error(None, "This form was already submitted once. Reload the add page and try again.")
        return value

    def clean_role_mapping(self) -> dict:
        mapping = self.cleaned_data.get("role_mapping") or {}
        if not isinstance(mapping, dict) or not all(
            isinstance(k, str) and v in ROLE_VALUES for k, v in mapping.items()
        ):
            raise ValidationError(
                f'Enter a JSON object from {self.ROLE_SOURCE} to role, e.g. {{"jeto-admins": "admin"}}; roles: '
                + ", ".join(sorted(ROLE_VALUES))
                + "."
            )
        return mapping

    def clean(self) -> dict:
        data = super().clean()
        if "connection_id" in self._errors:  # a hidden field's error would be invisible: show it on the form
            self.add_error(None, list(self._errors.pop("connection_id")))
        if self.instance.pk is None and data.get("organization") is not None:
            try:
                plans.check_sso_connection_allowed(data["organization"])
            except PermissionDenied as exc:
                self.add_error(None, ValidationError(str(exc), code=PLAN_REFUSED))
        return data

    def refused_by_plan(self) -> bool:
        return self.has_error(NON_FIELD_ERRORS, PLAN_REFUSED)


class SSOConnectionForm(ConnectionForm):
    client_secret = forms.CharField(
        label="Client secret",
        required=False,
        strip=True,
        max_length=2000,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Stored encrypted and never shown again. Leave empty to keep the current secret.",
    )

    class Meta:
        model = SSOConnection
        fields = [
            "organization",
            "name",
            "issuer",
            "client_id",
            "scopes",
            "enabled",
            "jit_provisioning",
            "default_role",
            "email_verified_claim",
            "role_claim",
            "role_mapping",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("issuer", "client_id"):  # optional in the table (SAML rows have neither), not for OIDC
            if name in self.fields:
                self.fields[name].required = True

    def clean_issuer(self) -> str:
        issuer = normalize_issuer(self.cleaned_data["issuer"])
        try:
            http.check_url(issuer, "issuer")
        except http.IdPError as exc:
            raise ValidationError(str(exc)) from None
        return issuer

    def clean_scopes(self) -> str:
        scopes = self.cleaned_data["scopes"].split()
        if "openid" not in scopes or "email" not in scopes:
            raise ValidationError("Scopes must include openid and email.")
        return " ".join(dict.fromkeys(scopes))

    def clean(self) -> dict:
        data = super().clean()
        if not self.instance.has_client_secret and not data.get("client_secret") and data.get("enabled"):
            self.add_error("client_secret", "Enter the client secret your IdP gave you before enabling.")
        return data

    def save(self, commit: bool = True) -> SSOConnection:
        connection = super().save(commit=False)
        if not connection.pk and self.cleaned_data.get("connection_id"):
            connection.public_id = self.cleaned_data["connection_id"]
        if self.cleaned_data.get("client_secret"):
            connection.set_client_secret(self.cleaned_data["client_secret"])
        if commit:
            connection.save()
        return connection


def _redirect_uri(request: HttpRequest, public_id: Any) -> str:
    return request.build_absolute_uri(reverse("jeto_identity:sso_callback", kwargs={"connection_id": public_id}))


class ConnectionTestAdminMixin:
    """"Test connection" for a connection type's admin: a POST-only button on the change page
    (``<id>/test/``) and the list's action both report ``check_connection(connection)`` as a message."""

    def check_connection(self, connection: Any) -> tuple[bool, list[str]]:
        raise NotImplementedError

    def _admin_name(self, view: str) -> str:
        return f"{self.model._meta.app_label}_{self.model._meta.model_name}_{view}"

    def get_urls(self):
        test_url = path(
            "<int:object_id>/test/", self.admin_site.admin_view(self.test_view), name=self._admin_name("test")
        )
        return [test_url, *super().get_urls()]

    def test_view(self, request: HttpRequest, object_id: int):
        if request.method != "POST":
            raise PermissionDenied
        obj = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        self._report(request, obj)
        return HttpResponseRedirect(reverse(f"admin:{self._admin_name('change')}", args=[obj.pk]))

    def _report(self, request: HttpRequest, connection: Any) -> None:
        ok, lines = self.check_connection(connection)
        level = messages.SUCCESS if ok else messages.ERROR
        verdict = "works" if ok else "has a problem"
        self.message_user(request, f"“{connection.name}” {verdict}: " + " ".join(lines), level)


class SSOConnectionAdminBase(ConnectionTestAdminMixin, admin.ModelAdmin):
    """The connection form, its redirect URI and the "Test connection" action; scoped by ``SSOConnectionAdmin``."""

    form = SSOConnectionForm
    change_form_template = "admin/jeto_identity/ssoconnection/change_form.html"
    list_display = ["name", "organization", "issuer", "enabled", "jit_provisioning", "default_role"]
    list_filter = ["enabled", "jit_provisioning"]
    search_fields = ["name", "issuer", "organization__name"]
    readonly_fields = ["secret_status", "created_at", "updated_at"]
    actions = ["test_connection"]
    fieldsets = [
        (None, {"fields": ["organization", "name", "enabled", "connection_id"]}),
        ("Identity provider", {"fields": ["issuer", "client_id", "client_secret", "secret_status", "scopes"]}),
        (
            "Accounts",
            {"fields": ["jit_provisioning", "default_role", "email_verified_claim", "role_claim", "role_mapping"]},
        ),
        ("Dates", {"fields": ["created_at", "updated_at"]}),
    ]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None):
        fieldsets = [list(fs) for fs in self.fieldsets]
        if obj is not None:
            fieldsets[0] = (None, {"fields": ["organization", "name", "enabled"]})
        return fieldsets

    @admin.display(description="client secret stored")
    def secret_status(self, obj: SSOConnection) -> str:
        return "Yes (encrypted)" if obj and obj.has_client_secret else "No"

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        adminform = context.get("adminform")
        public_id = obj.public_id if obj is not None else None
        if public_id is None and adminform is not None:
            form = adminform.form
            public_id = form["connection_id"].value() if "connection_id" in form.fields else None
            try:
                public_id = uuid.UUID(str(public_id)) if public_id else None
            except ValueError:
                public_id = None  # tampered hidden field: the form error says so
        if public_id:
            context["sso_redirect_uri"] = _redirect_uri(request, public_id)
        if obj is not None:
            context["sso_test_url"] = reverse("admin:jeto_identity_ssoconnection_test", args=[obj.pk])
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        metadata.forget(obj)

    @admin.action(description="Test connection (fetch discovery and signing keys)")
    def test_connection(self, request: HttpRequest, queryset):
        for connection in queryset:
            self._report(request, connection)

    def check_connection(self, connection: SSOConnection) -> tuple[bool, list[str]]:
        report = metadata.test_connection(connection)
        return report.ok, report.lines


class FederatedIdentityAdminBase(admin.ModelAdmin):
    """Read-only list of links; deleting one unlinks the person (their next SSO sign-in links again per the
    rules). Links are never added by hand: that would let anyone bind an IdP subject to any account."""

    list_display = ["user", "connection", "email", "created_at", "last_login_at"]
    list_filter = [("connection", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["user__email", "email", "subject"]
    readonly_fields = ["connection", "subject", "user", "email", "created_at", "last_login_at"]
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OwnerConfiguresMixin:
    """An organisation's owners connect its IdP (see docs/sso-admins.md); its admins see it read-only.

    The IdP decides who signs in as each member, so configuring it is an owner's power, like granting the owner
    role. A connection never moves to another organisation except by a platform admin (and then loses its links).
    Shared by the OIDC and SAML connection admins.
    """

    def _owner_may(self, request: HttpRequest, obj: Any = None) -> bool:
        if request.user.is_superuser:
            return True
        owned = access.owned_org_ids(request.user)
        return access.is_org_admin(request.user) and bool(owned) and (obj is None or obj.organization_id in owned)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._owner_may(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and self._owner_may(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and self._owner_may(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None):
        fields = list(super().get_readonly_fields(request, obj))
        return fields if obj is None or request.user.is_superuser else [*fields, "organization"]

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs: Any):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.related_model is Organization and not request.user.is_superuser and field is not None:
            field.queryset = Organization.objects.filter(pk__in=access.owned_org_ids(request.user))
        return field


@admin.register(SSOConnection)
class SSOConnectionAdmin(OwnerConfiguresMixin, OrgScopedAdminMixin, SSOConnectionAdminBase):
    """OpenID Connect connections (SAML ones have their own page: ``sso.saml.admin``)."""

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).filter(protocol=OIDC)


@admin.register(FederatedIdentity)
class FederatedIdentityAdmin(SystemRecordAdminMixin, OrgScopedAdminMixin, FederatedIdentityAdminBase):
    """Unlinking someone is managing their account: an org admin unlinks only people they may manage (never an
    owner or another admin unless they own every organisation of theirs; see ``access.can_manage_user``)."""

    org_lookup = "connection__organization"

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or access.can_manage_user(request.user, obj.user))

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        if not all(access.can_manage_user(request.user, link.user) for link in queryset.select_related("user")):
            raise PermissionDenied
        super().delete_queryset(request, queryset)


from jeto_identity.sso.saml import admin as saml_admin  # noqa: E402, F401  (registers the SAML connection admin)
