"""Invitations in Django admin: org admins invite (one, or a CSV), list, resend and revoke their own."""

from __future__ import annotations

import csv
import io
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from jeto_identity.conf import jeto_settings
from jeto_identity.core import access
from jeto_identity.models import Invitation, Organization, Role
from jeto_identity.orgadmin import invitations
from jeto_identity.orgadmin.base import OrgScopedAdminMixin

UPLOAD_TEMPLATE = "admin/jeto_identity/invitation/upload.html"
MAX_CSV_BYTES = 256 * 1024


class InvitationForm(forms.ModelForm):
    acting_user: Any = None  # set per request

    class Meta:
        model = Invitation
        fields = ["email", "organization", "role"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("organization") and data.get("email") and data.get("role"):
            try:
                data["email"] = invitations.check_may_invite(
                    self.acting_user, data["organization"], data["email"], data["role"]
                )
            except ValidationError as exc:
                self.add_error(None, exc)
        return data

    def validate_unique(self) -> None:  # an open invitation of the same address is resent, not a duplicate
        return None


class UploadForm(forms.Form):
    organization = forms.ModelChoiceField(queryset=Organization.objects.none())
    file = forms.FileField(help_text="CSV with a header row: email, role (member, admin or owner; empty: member).")

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = access.administered_organizations(user)


def parse_csv(raw: bytes) -> list[tuple[int, str, str]]:
    """(line number, email, role) per data row; ValidationError for a file that is not a usable CSV."""
    if len(raw) > MAX_CSV_BYTES:
        raise ValidationError(f"The file is larger than {MAX_CSV_BYTES // 1024} KB.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError("Save the file as UTF-8 CSV.") from exc
    try:
        reader = csv.DictReader(io.StringIO(text))
        header = [h.strip().lower() for h in reader.fieldnames or []]
        if "email" not in header:
            raise ValidationError("The first row must name the columns: email, role.")
        reader.fieldnames = header
        rows = [
            (reader.line_num, (row.get("email") or "").strip(), (row.get("role") or "member").strip().lower())
            for row in reader
        ]
    except csv.Error as exc:
        raise ValidationError(f"This is not a readable CSV file ({exc}).") from exc
    limit = int(jeto_settings.INVITATION_CSV_MAX_ROWS)
    if len(rows) > limit:
        raise ValidationError(f"At most {limit} rows per file.")
    return [r for r in rows if r[1] or r[2] != "member"]


@admin.register(Invitation)
class InvitationAdmin(OrgScopedAdminMixin, admin.ModelAdmin):
    form = InvitationForm
    list_display = ["email", "organization", "role", "status", "invited_by", "last_sent_at", "expires_at"]
    list_filter = ["role", ("organization", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["email"]
    actions = ["resend_selected", "revoke_selected"]
    change_list_template = "admin/jeto_identity/invitation/change_list.html"
    org_admins_may_delete = False
    readonly = [
        "email",
        "organization",
        "role",
        "status",
        "invited_by",
        "created_at",
        "expires_at",
        "last_sent_at",
        "send_count",
        "accepted_at",
        "accepted_by",
        "revoked_at",
    ]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def get_fields(self, request, obj=None):
        return ["email", "organization", "role"] if obj is None else self.readonly

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type("ScopedInvitationForm", (form,), {"acting_user": request.user})

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "role" and not request.user.is_superuser and not access.owned_org_ids(request.user):
            kwargs["choices"] = [(Role.MEMBER, "Member"), (Role.ADMIN, "Admin")]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            sent = invitations.invite(request, data["organization"], data["email"], data["role"], request.user)
        except invitations.Throttled as exc:
            raise PermissionDenied(str(exc)) from exc
        form.instance = sent.invitation
        obj.pk = sent.invitation.pk

    def response_add(self, request, obj, post_url_continue=None):
        self.message_user(request, f"Invited {obj.email}.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:jeto_identity_invitation_changelist"))

    def log_addition(self, request, obj, message):
        return None  # audited as invitation.sent

    @admin.action(description="Resend selected invitations")
    def resend_selected(self, request: HttpRequest, queryset) -> None:
        done = 0
        for invitation in queryset.select_related("organization"):
            try:
                invitations.resend(request, invitation, request.user)
                done += 1
            except (ValidationError, invitations.Throttled) as exc:
                self.message_user(
                    request, f"{invitation.email}: {' '.join(getattr(exc, 'messages', [str(exc)]))}", messages.WARNING
                )
        self.message_user(request, f"Resent {done} invitation(s); their earlier links no longer work.")

    @admin.action(description="Revoke selected invitations")
    def revoke_selected(self, request: HttpRequest, queryset) -> None:
        done = sum(invitations.revoke(i, request.user) for i in queryset.select_related("organization"))
        self.message_user(request, f"Revoked {done} invitation(s).")

    def get_urls(self):
        return [
            path("upload/", self.admin_site.admin_view(self.upload_view), name="jeto_identity_invitation_upload"),
            *super().get_urls(),
        ]

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        results: list[dict[str, Any]] = []
        form = UploadForm(request.POST or None, request.FILES or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            try:
                rows = parse_csv(form.cleaned_data["file"].read(MAX_CSV_BYTES + 1))
                invitations.check_bulk_allowed(request.user, len(rows))
            except (ValidationError, invitations.Throttled) as exc:
                form.add_error("file", getattr(exc, "messages", [str(exc)]))
            else:
                organization = form.cleaned_data["organization"]
                for line, email, role in rows:
                    try:
                        sent = invitations.invite(request, organization, email, role, request.user)
                        outcome = "resent" if sent.resent else "invited"
                        results.append({"line": line, "email": email, "role": role, "ok": True, "result": outcome})
                    except (ValidationError, PermissionDenied) as exc:
                        text = " ".join(getattr(exc, "messages", None) or [str(exc) or "Not allowed."])
                        results.append({"line": line, "email": email, "role": role, "ok": False, "result": text})
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Invite people from a CSV file",
            "form": form,
            "results": results,
            "max_rows": jeto_settings.INVITATION_CSV_MAX_ROWS,
        }
        return TemplateResponse(request, UPLOAD_TEMPLATE, context, status=200)
