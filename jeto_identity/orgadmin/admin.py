"""Admin for organisations, their members and domains, and people (users), scoped to what an org admin runs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.urls import reverse

from jeto_identity.core import access
from jeto_identity.core.users import normalize_email
from jeto_identity.mfa.admin import enrolled_factors, mfa_enabled, reset_mfa
from jeto_identity.models import (
    Membership,
    Organization,
    OrganizationDomain,
    Role,
    SSOConnection,
    User,
)
from jeto_identity.orgadmin import domains, invitations, plan_admin, plans
from jeto_identity.orgadmin.base import OrgScopedAdminMixin


class MembershipInlineFormSet(forms.BaseInlineFormSet):
    """Only owners (and superusers) may create, change or remove an owner membership."""

    may_manage_owners = True

    def clean(self) -> None:
        super().clean()
        if self.may_manage_owners:
            return
        for form in self.forms:
            if not hasattr(form, "cleaned_data"):
                continue
            was_owner = form.instance.pk and form.initial.get("role") == Role.OWNER
            becomes_owner = form.cleaned_data.get("role") == Role.OWNER
            deleting = form.cleaned_data.get("DELETE")
            if (becomes_owner and not was_owner) or (was_owner and (form.has_changed() or deleting)):
                raise ValidationError("Only an owner of this organisation can grant, change or remove the owner role.")


class OrganizationPageInline(admin.TabularInline):
    """An inline of the organisation page: whoever may open that page (scoped by ``OrganizationAdmin``) may edit its
    rows; what they may do to each row is the inline's own rule (its formset or read-only fields)."""

    def has_view_permission(self, request, obj=None):
        return True

    def has_add_permission(self, request, obj=None):
        return True

    def has_change_permission(self, request, obj=None):
        return True

    def has_delete_permission(self, request, obj=None):
        return True


class MembershipInline(OrganizationPageInline):
    model = Membership
    formset = MembershipInlineFormSet
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any):
        formset = super().get_formset(request, obj, **kwargs)
        formset.may_manage_owners = request.user.is_superuser or (
            obj is not None and obj.pk in access.owned_org_ids(request.user)
        )
        return formset

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs: Any):
        if db_field.name == "user" and not request.user.is_superuser:
            kwargs["queryset"] = access.visible_users(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


def report_verification_reset(request: HttpRequest, domains: Iterable[Any]) -> None:
    """Tell the platform admin who renamed or moved a verified domain that it needs verifying again."""
    for domain in domains:
        if isinstance(domain, OrganizationDomain) and domain.verification_reset:
            messages.warning(
                request,
                f"“{domain.domain}” is no longer verified because its name or organisation changed. "
                "Verify it again once its new owner has proved control of it.",
            )


class DomainInlineForm(forms.ModelForm):
    """Org admins name new domains; an existing row's name is fixed (renaming it is a platform decision)."""

    names_are_fixed = False  # set per request by DomainInline.get_formset

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.names_are_fixed and self.instance.pk is not None and "domain" in self.fields:
            self.fields["domain"].disabled = True


class DomainInline(OrganizationPageInline):
    model = OrganizationDomain
    form = DomainInlineForm
    extra = 0
    fields = ["domain", "verified", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        # Verifying a domain routes its sign-ins and links its accounts: a platform decision (DNS proof), not
        # something an org admin can assert for themselves.
        return ["created_at"] if request.user.is_superuser else ["verified", "created_at"]

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form.names_are_fixed = not request.user.is_superuser  # the form class is made for this request
        return formset


OWNER_POLICY_FIELDS = ["sso_enforced", "mfa_after_sso"]


class OrganizationForm(forms.ModelForm):
    """Enforcing SSO without an enabled connection would refuse every member's password sign-in and reset with no
    other way in (a lockout only a platform admin can lift): switching it on needs an enabled SSO connection, for
    everyone, superusers included."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        grace = self.fields.get("phishing_resistant_grace_days")
        if grace is not None:
            grace.required = False  # left empty (or absent): keep the organisation's current grace period

    def clean_phishing_resistant_grace_days(self) -> int:
        value = self.cleaned_data.get("phishing_resistant_grace_days")
        return self.instance.phishing_resistant_grace_days if value is None else value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        # The plan: a policy its plan leaves out can be switched off, never on (docs/admins.md).
        for field, feature in (("mfa_required", plans.MFA_POLICY), ("sso_enforced", plans.SSO)):
            turning_on = data.get(field) and not (self.instance.pk and getattr(self.instance, field))
            if turning_on and not plans.entitlements(self.instance.pk).includes(feature):
                self.add_error(field, str(plans.NotEntitled(self.instance, feature)))
        switching_on = data.get("sso_enforced") and not (self.instance.pk and self.instance.sso_enforced)
        if switching_on and not (
            self.instance.pk and SSOConnection.objects.filter(organization=self.instance, enabled=True).exists()
        ):
            self.add_error(
                "sso_enforced",
                "Add and enable an SSO connection for this organisation before enforcing SSO: without one, "
                "members could neither sign in with a password nor reset it.",
            )
        return data


@admin.register(Organization)
class OrganizationAdmin(OrgScopedAdminMixin, admin.ModelAdmin):
    form = OrganizationForm
    org_lookup = "pk"
    org_admins_may_add = False
    org_admins_may_delete = False
    list_display = ["name", "slug", "mfa_required", "sso_enforced", "mfa_after_sso", "created_at"]
    list_filter = ["mfa_required", "sso_enforced", "mfa_after_sso"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline, DomainInline]
    fieldsets = [
        (None, {"fields": ["name", "slug"]}),
        ("Policy", {"fields": ["mfa_required", "sso_enforced", "mfa_after_sso"]}),
        ("Phishing-resistant sign-in", {"fields": ["phishing_resistant_only", "phishing_resistant_grace_days"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return ["platform_plan"]
        if obj is not None and obj.pk in access.owned_org_ids(request.user):
            return ["slug", "plan_summary"]
        # Enforcing SSO turns off the owner's password sign-in and reset; MFA after SSO decides whether the IdP
        # alone signs the owner in. Both weigh on the owner, so only an owner (or a platform admin) sets them.
        return ["slug", *OWNER_POLICY_FIELDS, "plan_summary"]

    def get_fieldsets(self, request, obj=None):
        field = "platform_plan" if request.user.is_superuser else "plan_summary"
        return [*super().get_fieldsets(request, obj), ("Plan", {"fields": [field]})]

    @admin.display(description="Your plan")
    def plan_summary(self, obj):
        return plan_admin.plan_summary(obj)

    @admin.display(description="Plan")
    def platform_plan(self, obj):
        return plan_admin.plan_summary(obj, for_platform_admin=True)

    def get_urls(self):
        from django.urls import path

        view = self.admin_site.admin_view(lambda request, object_id: plan_admin.request_activation_view(
            self, request, object_id
        ))
        return [
            path("<path:object_id>/request-activation/", view, name=plan_admin.REQUEST_URL_NAME),
            *super().get_urls(),
        ]

    def get_prepopulated_fields(self, request, obj=None):
        return self.prepopulated_fields if request.user.is_superuser else {}

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        report_verification_reset(request, formset.new_objects + [obj for obj, _ in formset.changed_objects])


@admin.register(OrganizationDomain)
class OrganizationDomainAdmin(OrgScopedAdminMixin, admin.ModelAdmin):
    list_display = ["domain", "organization", "verified", "verification_method", "last_checked_at", "created_at"]
    list_filter = ["verified"]
    search_fields = ["domain", "organization__name"]
    actions = ["verify_by_dns"]
    change_form_template = "admin/jeto_identity/organizationdomain/change_form.html"
    proof_fields = ["dns_record", "verification_method", "verified_at", "last_checked_at", "last_check_result"]

    def get_readonly_fields(self, request, obj=None):
        proof = self.proof_fields if obj is not None else []
        if request.user.is_superuser:
            return proof
        # Which organisation owns which name is a platform fact: an org admin adds a name (unverified) or
        # removes one of theirs, but never renames or moves one (save() would un-verify it anyway). They verify it
        # by publishing its DNS record ("Verify now"), never by ticking a box.
        return ["verified"] if obj is None else ["domain", "organization", "verified", *proof]

    @admin.display(description="DNS record to publish")
    def dns_record(self, obj):
        from django.utils.html import format_html

        if obj is None or obj.pk is None:
            return ""
        return format_html(
            '<code data-testid="txt-name">{}</code> TXT <code data-testid="txt-value">{}</code>',
            domains.challenge_name(obj.domain),
            obj.verification_token,
        )

    def save_model(self, request, obj, form, change):
        if request.user.is_superuser and obj.verified and "verified" in form.changed_data:
            from django.utils import timezone

            obj.verified_at, obj.verification_method = timezone.now(), "manual"  # a platform admin's word
        super().save_model(request, obj, form, change)
        report_verification_reset(request, [obj])

    def get_urls(self):
        from django.urls import path

        wrap = self.admin_site.admin_view
        return [
            path("<path:object_id>/verify/", wrap(self.verify_view), name="jeto_identity_organizationdomain_verify"),
            *super().get_urls(),
        ]

    def _report(self, request, domain, result) -> None:
        level = messages.SUCCESS if result.verified else messages.WARNING
        text = result.message if domain.domain in result.message else f"{domain}: {result.message}"
        self.message_user(request, text, level)

    def verify_view(self, request, object_id):
        from django.http import HttpResponseNotAllowed

        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        domain = self.get_object(request, object_id)  # scoped: another organisation's is a 404
        if domain is None:
            raise Http404("No such object.")
        self._report(request, domain, domains.check(domain, actor=request.user))
        return HttpResponseRedirect(reverse("admin:jeto_identity_organizationdomain_change", args=[domain.pk]))

    @admin.action(description="Verify selected domains now (DNS)")
    def verify_by_dns(self, request, queryset):
        for domain in queryset.filter(verified=False)[:20]:
            self._report(request, domain, domains.check(domain, actor=request.user))


@admin.register(Membership)
class MembershipAdmin(OrgScopedAdminMixin, admin.ModelAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role", ("organization", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["user__email", "organization__name"]
    autocomplete_fields = ["user"]

    def get_readonly_fields(self, request, obj=None):
        # Moving a membership to another organisation is a delete plus an add, each checked on its own.
        return ["organization"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        self._check_owner_rule(request, obj, form)
        super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        if obj.role == Role.OWNER and not self._may_manage_owners(request, obj.organization_id):
            raise Http404("No such object.")
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        if not request.user.is_superuser and (
            queryset.filter(role=Role.OWNER).exclude(organization_id__in=access.owned_org_ids(request.user)).exists()
        ):
            raise PermissionDenied
        super().delete_queryset(request, queryset)

    def _may_manage_owners(self, request, org_id: int) -> bool:
        return request.user.is_superuser or org_id in access.owned_org_ids(request.user)

    def _check_owner_rule(self, request, obj, form) -> None:
        touches_owner = obj.role == Role.OWNER or form.initial.get("role") == Role.OWNER
        if touches_owner and not self._may_manage_owners(request, obj.organization_id):
            raise Http404("No such object.")

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        user = request.user

        class OwnerRuleForm(form):
            def clean(self_inner):
                data = super().clean()
                org = data.get("organization")
                touches_owner = data.get("role") == Role.OWNER or self_inner.initial.get("role") == Role.OWNER
                if org and touches_owner and not (user.is_superuser or org.pk in access.owned_org_ids(user)):
                    raise ValidationError("Only an owner of this organisation can grant or change the owner role.")
                return data

        return OwnerRuleForm


class OrgAdminUserCreationForm(forms.ModelForm):
    """An org admin adds a person to one of their organisations: an invitation (``orgadmin.invitations``).

    Nothing is created until the person accepts, for every address alike, so neither the answer nor the member list
    is an oracle for who has an account. Addresses in a domain another organisation verified are refused: that
    organisation's admins invite its people.
    """

    email = forms.EmailField(label="Email address", max_length=254)  # a form field: no uniqueness check
    organization = forms.ModelChoiceField(queryset=Organization.objects.none())
    role = forms.ChoiceField(choices=[(Role.MEMBER, "Member"), (Role.ADMIN, "Admin")], initial=Role.MEMBER)

    acting_user: User | None = None  # the signed-in org admin; set per request by UserAdmin.get_form

    class Meta:
        model = User
        fields = ["first_name", "last_name"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = access.administered_organizations(self.acting_user)
        if access.owned_org_ids(self.acting_user):
            self.fields["role"].choices = [*self.fields["role"].choices, (Role.OWNER, "Owner")]

    def clean_email(self) -> str:
        email = normalize_email(self.cleaned_data["email"])
        domain = email.rsplit("@", 1)[-1]
        others = OrganizationDomain.objects.filter(domain=domain, verified=True).exclude(
            organization_id__in=access.administered_org_ids(self.acting_user)
        )
        if others.exists():
            raise ValidationError(
                f"{domain} belongs to another organisation (it verified that domain): only that organisation's "
                "admins can add its people."
            )
        return email

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        org = data.get("organization")
        if data.get("role") == Role.OWNER and org and org.pk not in access.owned_org_ids(self.acting_user):
            self.add_error("role", "Only an owner of this organisation can add an owner.")
        elif org and data.get("email") and data.get("role"):
            try:
                invitations.check_may_invite(self.acting_user, org, data["email"], data["role"])
            except ValidationError as exc:
                self.add_error(None, exc)
        return data

    def save(self, commit: bool = True) -> User:
        """Never saved: the admin's save_model sends an invitation instead (``orgadmin.invitations``)."""
        user = super().save(commit=False)
        user.email = self.cleaned_data["email"]
        return user


_ADDED = "_jeto_added_member"


@dataclass(frozen=True)
class AddedMember:
    """What the org admin's add form did, kept on the request for the response (which must not tell)."""

    email: str
    organization: Organization
    role: str


class SuperuserCreationForm(forms.ModelForm):
    password = forms.CharField(
        widget=forms.PasswordInput, required=False, help_text="Leave empty to let the user set one by reset link."
    )

    class Meta:
        model = User
        fields = ["email", "first_name", "last_name", "is_staff", "is_superuser"]

    def save(self, commit: bool = True) -> User:
        user = super().save(commit=False)
        if self.cleaned_data.get("password"):
            user.set_password(self.cleaned_data["password"])
        else:
            user.set_unusable_password()
        if commit:
            user.save()
        return user

    def save_m2m(self) -> None:  # pragma: no cover - no m2m fields on this form
        return None


class JetoUserChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(OrgScopedAdminMixin, DjangoUserAdmin):
    form = JetoUserChangeForm
    ordering = ["email"]
    list_display = [
        "email",
        "first_name",
        "last_name",
        "is_active",
        "is_staff",
        mfa_enabled,
        enrolled_factors,
        "last_login",
    ]
    list_filter = ["is_active", "is_staff", "is_superuser"]
    actions = [reset_mfa]
    search_fields = ["email", "first_name", "last_name"]
    readonly_fields = ["last_login", "date_joined"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["first_name", "last_name", "email_verified"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    org_admin_fieldsets = [
        (None, {"fields": ["email"]}),
        ("Profile", {"fields": ["first_name", "last_name", "email_verified"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"fields": ["email", "first_name", "last_name", "password", "is_staff", "is_superuser"]})]
    org_admin_add_fieldsets = [(None, {"fields": ["email", "first_name", "last_name", "organization", "role"]})]

    def scope_queryset(self, request, qs):
        return qs.filter(pk__in=access.visible_users(request.user).values("pk"))

    def has_change_permission(self, request, obj=None):
        if obj is not None and not request.user.is_superuser:
            return self.in_scope(request, obj) and access.can_manage_user(request.user, obj)
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def save_model(self, request, obj, form, change):
        if change and "email" in form.changed_data:
            obj.email_verified = False  # a new address is unproven until its owner follows a link sent to it
        if not change and isinstance(form, OrgAdminUserCreationForm):
            # Everyone is invited the same way: nothing is created until the person accepts, so neither this answer
            # nor the member list tells whether the address had an account.
            data = form.cleaned_data
            invitations.invite(request, data["organization"], data["email"], data["role"], request.user)
            setattr(request, _ADDED, AddedMember(data["email"], data["organization"], data["role"]))
        else:
            super().save_model(request, obj, form, change)

    def log_addition(self, request, obj, message):
        if getattr(request, _ADDED, None) is not None:
            return None  # an invitation creates no account (it is audited as invitation.sent)
        return super().log_addition(request, obj, message)

    def response_add(self, request, obj, post_url_continue=None):
        added: AddedMember | None = getattr(request, _ADDED, None)
        if added is None:
            return super().response_add(request, obj, post_url_continue)
        self.message_user(
            request,
            f"Invited {added.email} to join {added.organization} as {Role(added.role).label}. They join once they "
            "accept (Invitations lists it until then).",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:jeto_identity_user_changelist"))

    def get_fieldsets(self, request, obj=None):
        if request.user.is_superuser:
            return self.add_fieldsets if obj is None else self.fieldsets
        return self.org_admin_add_fieldsets if obj is None else self.org_admin_fieldsets

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return self.readonly_fields
        # Email is the sign-in identifier and a verified claim at relying parties: only platform admins change it.
        if obj is None:
            return []
        return ["email", "email_verified", "is_staff", "is_superuser", "last_login", "date_joined"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            if request.user.is_superuser:
                kwargs["form"] = SuperuserCreationForm
            else:
                kwargs["form"] = type("ScopedCreationForm", (OrgAdminUserCreationForm,), {"acting_user": request.user})
            kwargs["fields"] = None
        return super().get_form(request, obj, **kwargs)

    def user_change_password(self, request, id, form_url=""):
        # Setting another person's password is a platform-admin action; org admins send a reset link instead.
        if not request.user.is_superuser:
            raise Http404("No such page.")
        return super().user_change_password(request, id, form_url)


from jeto_identity.orgadmin import invitation_admin  # noqa: E402,F401  (registers the invitations admin)
