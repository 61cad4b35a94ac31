"""The API Integrations programme in Django admin: org admins apply; platform admins decide, with a reason."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from jeto_identity.connections import programme
from jeto_identity.models import ProgrammeApplication
from jeto_identity.orgadmin.base import OrgScopedAdminMixin

DECIDE_TEMPLATE = "admin/jeto_identity/programmeapplication/decide.html"


class ApplyForm(forms.ModelForm):
    accept_terms = forms.BooleanField(
        required=True, label="I accept the programme terms above on behalf of the organisation"
    )
    terms_version = forms.CharField(widget=forms.HiddenInput)
    acting_user: Any = None

    class Meta:
        model = ProgrammeApplication
        fields = ["organization", "purpose", "contact_name", "contact_email", "expected_usage"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "terms_version" in self.fields:  # the add form (the change page shows the stored application read-only)
            self.fields["terms_version"].initial = programme.terms_version()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("terms_version") and data["terms_version"] != programme.terms_version():
            self.add_error("accept_terms", "The terms changed since you opened this page: read them again.")
        org = data.get("organization")
        if org is not None and programme.open_application(org) is not None:
            self.add_error("organization", f"{org.name} already has an application in the programme.")
        return data

    def validate_constraints(self, exclude=None) -> None:  # the one-open-application rule is clean()'s message
        return None


class DecideForm(forms.Form):
    decision = forms.ChoiceField(choices=[])
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)

    def __init__(self, *args: Any, application: ProgrammeApplication, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["decision"].choices = [
            (name, name.capitalize())
            for name, (from_statuses, _, _) in programme.DECISIONS.items()
            if application.status in from_statuses
        ]


@admin.register(ProgrammeApplication)
class ProgrammeApplicationAdmin(OrgScopedAdminMixin, admin.ModelAdmin):
    form = ApplyForm
    list_display = ["organization", "status", "contact_email", "created_at", "decided_at"]
    list_filter = ["status"]
    search_fields = ["organization__name", "contact_email"]
    change_form_template = "admin/jeto_identity/programmeapplication/change_form.html"
    org_admins_may_delete = False
    shown = [
        "organization",
        "status",
        "purpose",
        "contact_name",
        "contact_email",
        "expected_usage",
        "terms_version",
        "terms_accepted_at",
        "applied_by",
        "created_at",
        "decided_by",
        "decided_at",
        "decision_reason",
    ]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any):
        if obj is not None:  # a stored application is shown read-only; the terms checkbox is the add form's
            kwargs["form"] = forms.ModelForm
        return super().get_form(request, obj, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None):
        if obj is not None:
            return [(None, {"fields": self.shown})]
        return [
            ("Programme terms", {"fields": ["terms"]}),
            (None, {"fields": [*ApplyForm.Meta.fields, "accept_terms", "terms_version"]}),
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None):
        return self.shown if obj is not None else ["terms"]

    @admin.display(description="Terms")
    def terms(self, obj: Any = None):
        return format_html('<pre class="jeto-terms" data-testid="programme-terms">{}</pre>', programme.terms_text())

    def save_model(self, request: HttpRequest, obj: ProgrammeApplication, form, change: bool) -> None:
        data = form.cleaned_data
        try:
            created = programme.apply(
                data["organization"],
                request.user,
                purpose=data["purpose"],
                contact_name=data["contact_name"],
                contact_email=data["contact_email"],
                expected_usage=data["expected_usage"],
                accepted_terms_version=data["terms_version"],
            )
        except ValidationError as exc:
            raise PermissionDenied(" ".join(exc.messages)) from exc
        obj.pk = created.pk

    def log_addition(self, request, obj, message):
        return None  # audited as programme.applied

    def response_add(self, request: HttpRequest, obj, post_url_continue=None):
        self.message_user(
            request, "Application sent. You'll get an e-mail when the platform team decides.", messages.SUCCESS
        )
        return HttpResponseRedirect(reverse("admin:jeto_identity_programmeapplication_change", args=[obj.pk]))

    def get_urls(self):
        return [
            path(
                "<path:object_id>/decide/",
                self.admin_site.admin_view(self.decide_view),
                name="jeto_identity_programmeapplication_decide",
            ),
            *super().get_urls(),
        ]

    def decide_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if not request.user.is_superuser:
            raise Http404("No such page.")
        application = self.get_object(request, unquote(object_id))
        if application is None:
            raise Http404("No such object.")
        form = DecideForm(request.POST or None, application=application)
        if request.method == "POST" and form.is_valid():
            try:
                programme.decide(application, request.user, form.cleaned_data["decision"], form.cleaned_data["reason"])
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                self.message_user(request, "Decision recorded and e-mailed to the applicant.", messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:jeto_identity_programmeapplication_change", args=[application.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": application,
            "title": f"Decide on {application.organization}'s application",
            "form": form,
        }
        return TemplateResponse(request, DECIDE_TEMPLATE, context, status=400 if form.errors else 200)
