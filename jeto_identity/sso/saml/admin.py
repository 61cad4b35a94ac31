"""Org-scoped admin for SAML connections: metadata by URL, by paste or upload, or entity ID + SSO URL + certificate
by hand; our SP values to copy into the IdP shown beside the form (and our metadata to download); "Test connection".

Owners configure, admins read (``OwnerConfiguresMixin``, shared with the OIDC admin).
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from jeto_identity.core import crypto
from jeto_identity.models import SAMLConnection
from jeto_identity.orgadmin.base import OrgScopedAdminMixin
from jeto_identity.sso import http
from jeto_identity.sso.admin import ConnectionForm, ConnectionTestAdminMixin, OwnerConfiguresMixin
from jeto_identity.sso.saml import attributes, metadata
from jeto_identity.sso.saml.keys import certificate_body

MAX_UPLOAD_BYTES = metadata.MAX_METADATA_CHARS


class SAMLConnectionForm(ConnectionForm):
    ROLE_SOURCE = "group value"

    metadata_file = forms.FileField(
        label="Upload IdP metadata",
        required=False,
        help_text="An XML file your IdP lets you download. Replaces the pasted metadata.",
    )

    class Meta:
        model = SAMLConnection
        fields = [
            "organization",
            "name",
            "enabled",
            "saml_metadata_url",
            "saml_metadata_xml",
            "saml_idp_entity_id",
            "saml_idp_sso_url",
            "saml_idp_certificates",
            "saml_sign_requests",
            "saml_nameid_format",
            "saml_attribute_mapping",
            "saml_trust_email",
            "saml_allow_idp_initiated",
            "saml_allow_sha1",
            "jit_provisioning",
            "default_role",
            "role_claim",
            "role_mapping",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "role_claim" in self.fields:
            self.fields["role_claim"].help_text = (
                "Attribute carrying groups or roles: “groups” for the mapped groups attribute (see attribute "
                "mapping), or an attribute name. Empty: no mapping."
            )

    def clean_saml_attribute_mapping(self) -> dict:
        value = self.cleaned_data.get("saml_attribute_mapping") or {}
        ok = isinstance(value, dict) and all(
            key in attributes.FIELDS
            and (isinstance(names, str) or (isinstance(names, list) and all(isinstance(n, str) for n in names)))
            for key, names in value.items()
        )
        if not ok:
            raise ValidationError(
                'Enter a JSON object from our field to attribute name(s), e.g. {"email": ["mail"]}; fields: '
                + ", ".join(attributes.FIELDS)
                + "."
            )
        return value

    def clean(self) -> dict:
        data = super().clean()  # the connection ID, and the plan (OIDC and SAML connections counted together)
        if self.refused_by_plan():
            return data
        upload = data.get("metadata_file")
        if upload is not None:
            if upload.size > MAX_UPLOAD_BYTES:
                self.add_error("metadata_file", f"The file is larger than {MAX_UPLOAD_BYTES // 1024} KiB.")
                return data
            try:
                data["saml_metadata_xml"] = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                self.add_error("metadata_file", "The file is not UTF-8 XML.")
                return data
        try:
            self._clean_idp(data)
        except http.IdPError as exc:
            field = (
                "saml_metadata_url"
                if data.get("saml_metadata_url")
                else "saml_metadata_xml"
                if data.get("saml_metadata_xml", "").strip()
                else None
            )
            self.add_error(field, str(exc))
        return data

    def _clean_idp(self, data: dict) -> None:
        """Metadata URL > metadata XML > fields by hand; the entity ID always comes from the metadata."""
        url = data.get("saml_metadata_url")
        if url:
            xml, meta = metadata.fetch(url)
            data["saml_metadata_xml"] = xml
            self.instance.saml_metadata_fetched_at = timezone.now()
        elif data.get("saml_metadata_xml", "").strip():
            meta = metadata.parse(data["saml_metadata_xml"])
            self.instance.saml_metadata_fetched_at = None
        else:
            data["saml_metadata_xml"] = ""
            self.instance.saml_metadata_fetched_at = None
            missing = [
                label
                for label, name in (
                    ("IdP entity ID", "saml_idp_entity_id"),
                    ("IdP single sign-on URL", "saml_idp_sso_url"),
                    ("IdP signing certificates", "saml_idp_certificates"),
                )
                if not (data.get(name) or "").strip()
            ]
            if missing:
                raise http.IdPError(
                    "Give a metadata URL, paste or upload the metadata, or fill in " + ", ".join(missing) + "."
                )
            certificates = metadata.split_certificates(data["saml_idp_certificates"])
            if not certificates:
                raise http.IdPError("Paste at least one signing certificate (PEM).")
            meta = metadata.parse(
                metadata.build(data["saml_idp_entity_id"].strip(), data["saml_idp_sso_url"], certificates)
            )
        http.check_url(meta.sso_url, "IdP single sign-on URL")
        data["saml_idp_entity_id"] = meta.entity_id
        self.instance.saml_idp_entity_id = meta.entity_id

    def save(self, commit: bool = True) -> SAMLConnection:
        connection = super().save(commit=False)
        connection.saml_metadata_xml = self.cleaned_data.get("saml_metadata_xml", connection.saml_metadata_xml)
        connection.saml_idp_entity_id = self.cleaned_data.get("saml_idp_entity_id", connection.saml_idp_entity_id)
        if not connection.pk and self.cleaned_data.get("connection_id"):
            connection.public_id = self.cleaned_data["connection_id"]
        if commit:
            connection.save()
        return connection


def sp_values(request: HttpRequest, public_id: Any, connection: SAMLConnection | None) -> dict[str, str]:
    """What the IdP's admin copies from us: entity ID, ACS URL, metadata URL, NameID format, certificate."""

    def url(name: str) -> str:
        return request.build_absolute_uri(reverse(f"jeto_identity:{name}", kwargs={"connection_id": public_id}))

    values = {
        "entity_id": url("saml_metadata"),
        "acs_url": url("saml_acs"),
        "metadata_url": url("saml_metadata"),
        "nameid_format": connection.saml_nameid_format if connection else "",
    }
    if connection is not None and connection.saml_sp_certificate:
        values["certificate"] = connection.saml_sp_certificate
        values["certificate_body"] = certificate_body(connection.saml_sp_certificate)
    return values


class SAMLConnectionAdminBase(ConnectionTestAdminMixin, admin.ModelAdmin):
    form = SAMLConnectionForm
    change_form_template = "admin/jeto_identity/samlconnection/change_form.html"
    list_display = ["name", "organization", "saml_idp_entity_id", "enabled", "jit_provisioning", "default_role"]
    list_filter = ["enabled", "jit_provisioning"]
    search_fields = ["name", "saml_idp_entity_id", "organization__name"]
    readonly_fields = ["saml_metadata_fetched_at", "created_at", "updated_at"]
    actions = ["test_connection"]
    fieldsets = [
        (None, {"fields": ["organization", "name", "enabled", "connection_id"]}),
        (
            "Identity provider: metadata (recommended)",
            {"fields": ["saml_metadata_url", "metadata_file", "saml_metadata_xml", "saml_metadata_fetched_at"]},
        ),
        (
            "Identity provider: or by hand",
            {"fields": ["saml_idp_entity_id", "saml_idp_sso_url", "saml_idp_certificates"]},
        ),
        (
            "Security",
            {"fields": ["saml_sign_requests", "saml_nameid_format", "saml_allow_idp_initiated", "saml_allow_sha1"]},
        ),
        (
            "Accounts",
            {
                "fields": [
                    "jit_provisioning",
                    "default_role",
                    "saml_trust_email",
                    "saml_attribute_mapping",
                    "role_claim",
                    "role_mapping",
                ]
            },
        ),
        ("Dates", {"fields": ["created_at", "updated_at"]}),
    ]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None):
        fieldsets = [list(fs) for fs in self.fieldsets]
        if obj is not None:
            fieldsets[0] = (None, {"fields": ["organization", "name", "enabled"]})
        return fieldsets

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        adminform = context.get("adminform")
        public_id = obj.public_id if obj is not None else None
        if public_id is None and adminform is not None:
            form = adminform.form
            value = form["connection_id"].value() if "connection_id" in form.fields else None
            try:
                public_id = uuid.UUID(str(value)) if value else None
            except ValueError:
                public_id = None
        if public_id:
            context["saml_sp"] = sp_values(request, public_id, obj)
        context["saml_default_mapping"] = attributes.DEFAULT_MAPPING
        if obj is not None:
            context["sso_test_url"] = reverse("admin:jeto_identity_samlconnection_test", args=[obj.pk])
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.action(description="Test connection (read the IdP metadata, refresh it from its URL)")
    def test_connection(self, request: HttpRequest, queryset):
        for connection in queryset:
            self._report(request, connection)

    def check_connection(self, connection: SAMLConnection) -> tuple[bool, list[str]]:
        return test_connection(connection)


def test_connection(connection: SAMLConnection) -> tuple[bool, list[str]]:
    """Refresh the metadata from its URL (if any), read it and our key pair; describe what works, in plain words."""
    from jeto_identity.sso.saml import keys

    lines: list[str] = []
    try:
        if connection.saml_metadata_url:
            metadata.refresh(connection)
            lines.append("Metadata fetched from its URL.")
        meta = metadata.current(connection)
        lines.append(
            f"IdP {meta.entity_id}: sign-in URL {meta.sso_url}, {len(meta.certificates)} signing certificate(s)."
        )
        now = timezone.now()
        for not_after in meta.not_after:
            if not_after < now:
                lines.append(f"A signing certificate expired on {not_after:%Y-%m-%d} (the IdP may still use it).")
        keys.private_key(connection)
    except http.IdPError as exc:
        lines.append(str(exc))
        return False, lines
    except crypto.DecryptionError:
        lines.append("Our signing key can't be decrypted (was the encryption key changed?).")
        return False, lines
    return True, lines


@admin.register(SAMLConnection)
class SAMLConnectionAdmin(OwnerConfiguresMixin, OrgScopedAdminMixin, SAMLConnectionAdminBase):
    """SAML 2.0 connections of the organisations the signed-in owner runs."""
