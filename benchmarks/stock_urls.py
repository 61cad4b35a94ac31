"""Stock DOT endpoints for the benchmark: DOT's token views and DOT-protected organisation and members endpoints."""

from django.http import JsonResponse
from django.urls import include, path
from oauth2_provider.views import ScopedProtectedResourceView

from jeto_identity.models import Organization
from jeto_portal.api.views import members_page


class StockOrganizationView(ScopedProtectedResourceView):
    """What a DOT user writes out of the box: the same JSON as /api/v1/organization, DOT's bearer check."""

    required_scopes = ["org:read"]

    def dispatch(self, request, *args, **kwargs):
        valid, r = self.verify_request(request)
        if not valid:
            return self.unauthenticated_response(request, r)
        org = Organization.objects.only("pk", "slug", "name", "mfa_required", "sso_enforced", "created_at").get(
            pk=r.access_token.application.organization_id
        )
        return JsonResponse(
            {
                "id": org.pk,
                "slug": org.slug,
                "name": org.name,
                "mfa_required": org.mfa_required,
                "sso_enforced": org.sso_enforced,
                "created_at": org.created_at.isoformat(),
            }
        )


class StockMembersView(ScopedProtectedResourceView):
    """The same JSON as /api/v1/members (first page), DOT's bearer check."""

    required_scopes = ["members:read"]

    def dispatch(self, request, *args, **kwargs):
        valid, r = self.verify_request(request)
        if not valid:
            return self.unauthenticated_response(request, r)
        return JsonResponse(members_page(r.access_token.application.organization_id, 50, 0))


urlpatterns = [
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("api/v1/organization", StockOrganizationView.as_view()),
    path("api/v1/members", StockMembersView.as_view()),
]
