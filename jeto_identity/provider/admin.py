"""Relying parties in Django admin: platform superusers only; a confidential client's secret is shown once."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse

from jeto_identity.models import OAuthClient, RelyingParty
from jeto_identity.provider import relying_parties

SECRET_ATTR = "_jeto_plain_secret"


class RelyingPartyForm(forms.ModelForm):
    redirect_uris = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line. Matched exactly (RFC 9700): scheme, host, port, path and query.",
    )
    post_logout_redirect_uris = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Where RP-initiated logout may return the user. One per line, matched exactly.",
    )

    class Meta:
        model = RelyingParty
        fields = [
            "name",
            "description",
            "client_type",
            "skip_authorization",
            "redirect_uris",
            "post_logout_redirect_uris",
            "allowed_scopes",
            "enabled",
        ]
        labels = {"skip_authorization": "Trusted (first-party)", "client_type": "Client type"}
        help_texts = {
            "skip_authorization": "Trusted clients skip the consent page. Only for applications you operate.",
            "client_type": "Confidential: a server that keeps a secret. Public: a browser or mobile app (PKCE only).",
            "allowed_scopes": "Space-separated; empty allows every scope the provider offers.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # DOT's model validation (redirect URIs required, RS256 key present) depends on these.
        self.instance.authorization_grant_type = OAuthClient.GRANT_AUTHORIZATION_CODE
        self.instance.algorithm = OAuthClient.RS256_ALGORITHM
        if self.instance.pk:
            self.fields["client_type"].disabled = True  # changing it would strand or skip a secret

    def _uris(self, field: str) -> str:
        value = relying_parties.normalise_uris(self.cleaned_data.get(field, ""))
        try:
            relying_parties.check_redirect_uris(value, field)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict[field]) from None
        return value

    def clean_redirect_uris(self) -> str:
        return self._uris("redirect_uris")

    def clean_post_logout_redirect_uris(self) -> str:
        return self._uris("post_logout_redirect_uris")


class PlatformAdminOnly:
    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)


@admin.register(RelyingParty)
class RelyingPartyAdmin(PlatformAdminOnly, admin.ModelAdmin):
    form = RelyingPartyForm
    list_display = ["name", "client_id", "client_type", "skip_authorization", "enabled", "created"]
    list_filter = ["client_type", "skip_authorization", "enabled"]
    search_fields = ["name", "client_id", "redirect_uris"]
    readonly_fields = ["client_id", "created", "updated", "created_by"]
    change_form_template = "admin/jeto_identity/relyingparty/change_form.html"

    def get_fieldsets(self, request, obj=None):
        main = ["name", "description", "client_type", "skip_authorization", "enabled"]
        if obj is not None:
            main = ["client_id", *main]
        fieldsets = [
            (None, {"fields": main}),
            ("URIs", {"fields": ["redirect_uris", "post_logout_redirect_uris"]}),
            ("Scopes", {"fields": ["allowed_scopes"]}),
        ]
        if obj is not None:
            fieldsets.append(("History", {"fields": ["created", "updated", "created_by"]}))
        return fieldsets

    def save_model(self, request: HttpRequest, obj: RelyingParty, form: Any, change: bool) -> None:
        if not change:
            setattr(obj, SECRET_ATTR, relying_parties.prepare(obj))
            obj.created_by = request.user
            obj.skip_authorization = form.cleaned_data.get("skip_authorization", False)
        obj.authorization_grant_type = OAuthClient.GRANT_AUTHORIZATION_CODE
        obj.algorithm = OAuthClient.RS256_ALGORITHM
        super().save_model(request, obj, form, change)

    def response_add(self, request: HttpRequest, obj: RelyingParty, post_url_continue: str | None = None):
        return self._show_credentials(request, obj, getattr(obj, SECRET_ATTR, ""), created=True)

    def _show_credentials(self, request: HttpRequest, obj: RelyingParty, secret: str, created: bool) -> HttpResponse:
        """The only page that ever shows the secret; nothing stores it in clear."""
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": obj,
            "client_secret": secret,
            "created": created,
            "discovery_url": request.build_absolute_uri("/.well-known/openid-configuration"),
            "change_url": reverse("admin:jeto_identity_relyingparty_change", args=[obj.pk]),
            "title": f"Credentials for {obj.name}",
        }
        response = TemplateResponse(request, "admin/jeto_identity/relyingparty/credentials.html", context)
        response["Cache-Control"] = "no-store"
        return response

    def get_urls(self):
        urls = super().get_urls()
        custom = [
            path(
                "<path:object_id>/rotate-secret/",
                self.admin_site.admin_view(self.rotate_secret_view),
                name="jeto_identity_relyingparty_rotate_secret",
            )
        ]
        return custom + urls

    def rotate_secret_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if not self.has_change_permission(request):
            raise PermissionDenied
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404("No such relying party.")
        if obj.client_type != OAuthClient.CLIENT_CONFIDENTIAL:
            raise Http404("Public clients have no secret.")
        if request.method != "POST":
            context = {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "original": obj,
                "title": f"Issue a new secret for {obj.name}?",
            }
            return TemplateResponse(request, "admin/jeto_identity/relyingparty/rotate_secret.html", context)
        secret = relying_parties.rotate_secret(obj)
        messages.warning(request, "The previous secret no longer works.")
        return self._show_credentials(request, obj, secret, created=False)
