"""Stock DOT endpoints for the benchmark: DOT's token views and a DOT-protected organisation endpoint."""

from django.http import JsonResponse
from django.urls import include, path
from oauth2_provider.views import ScopedProtectedResourceView

from jeto_identity.models import Organization


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


urlpatterns = [
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("api/v1/organization", StockOrganizationView.as_view()),
]
