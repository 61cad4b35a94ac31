"""Plans in Django admin: platform admins set them; org admins read theirs and ask for what it leaves out."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from jeto_identity.models import Organization, Plan
from jeto_identity.orgadmin import plans

REQUEST_URL_NAME = "jeto_identity_organization_request_activation"


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    """Every organisation's plan, for platform admins (org admins read theirs on their organisation's page)."""

    list_display = ["organization", *plans.FEATURES, *plans.CAPS.values(), "updated_at"]
    list_filter = list(plans.FEATURES)
    search_fields = ["organization__name", "organization__slug"]
    autocomplete_fields = ["organization"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    has_add_permission = has_change_permission = has_delete_permission = has_view_permission


def plan_summary(organization: Organization | None, for_platform_admin: bool = False) -> SafeString:
    """What the plan includes, each feature marked, with a "Request activation" button for what it leaves out
    (org admins) or a link to edit the plan (platform admins)."""
    if organization is None or organization.pk is None:
        return format_html("{}", "Set by platform admins once the organisation exists.")
    current = plans.entitlements(organization)
    if for_platform_admin:
        row = Plan.objects.filter(organization=organization).first()
        edit = (
            reverse("admin:jeto_identity_plan_change", args=[row.pk])
            if row
            else reverse("admin:jeto_identity_plan_add") + f"?organization={organization.pk}"
        )
        included = ", ".join(plans.FEATURES[f] for f in plans.FEATURES if current.includes(f)) or "nothing on demand"
        return format_html(
            '{}{} <a class="button" href="{}" data-testid="edit-plan">Edit plan</a>',
            "Default plan: " if current.from_default else "",
            included,
            edit,
        )
    url = reverse(f"admin:{REQUEST_URL_NAME}", args=[organization.pk])
    rows = []
    for feature, label in plans.FEATURES.items():
        if current.includes(feature):
            state = format_html('<strong data-testid="plan-{}">Included</strong>', feature)
        elif feature == plans.API_CLIENTS:  # granted by the API Integrations programme
            state = format_html(
                'Not included <a class="button" href="{}?organization={}" data-testid="programme-apply">'
                "Apply to the API Integrations programme</a>",
                reverse("admin:jeto_identity_programmeapplication_add"),
                organization.pk,
            )
        else:
            state = format_html(
                'Not included <button type="submit" class="button" formaction="{}" formnovalidate '
                'name="feature" value="{}" data-testid="request-{}">Request activation</button>',
                url,
                feature,
                feature,
            )
        rows.append((feature, label, state))
    caps = [
        ("SSO connections", current.caps.get("sso_connections")),
        ("Application connections", current.caps.get("api_clients")),
    ]
    return format_html(
        '<ul class="jeto-plan">{}{}</ul>',
        format_html_join("", '<li data-feature="{}">{}: {}</li>', rows),
        format_html_join(
            "", "<li>{}: {}</li>", ((name, "no cap" if n is None else f"at most {n}") for name, n in caps)
        ),
    )


def request_activation_view(model_admin: admin.ModelAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    """POST from the organisation's page: ask platform admins to switch one feature on."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    organization = model_admin.get_object(request, object_id)  # scoped: another organisation's is a 404
    if organization is None or not model_admin.has_view_permission(request, organization):
        raise Http404("No such object.")
    feature = request.POST.get("feature", "")
    if feature not in plans.FEATURES:
        messages.error(request, "Unknown feature.")
    elif plans.request_activation(organization, feature, request.user):
        messages.success(
            request, f"Asked the platform administrators to activate {plans.FEATURES[feature]}. They'll be in touch."
        )
    else:
        messages.info(request, f"{plans.FEATURES[feature]} is already included, or was asked for in the last 24 hours.")
    return HttpResponseRedirect(reverse("admin:jeto_identity_organization_change", args=[organization.pk]))
