from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from jeto_identity.login.views import admin_login
from jeto_identity.orgadmin.base import view_on_site

# Opt-in fast token endpoint (JETO_FASTPATHS, config/settings.py).
FASTPATHS = [path("", include("jeto_identity.contrib.fastpaths.urls"))] if settings.JETO_FASTPATHS else []

urlpatterns = [
    path("admin/login/", admin_login),
    # Scoped in place of Django's: no existence oracle across organisations, no 500 for a malformed ID.
    path("admin/r/<int:content_type_id>/<path:object_id>/", admin.site.admin_view(view_on_site)),
    path("admin/", admin.site.urls),
    path("api/v1/", include("jeto_portal.api.urls")),  # application connections' Jeto API
    *FASTPATHS,  # before the provider's URLs, so the fast token endpoint answers o/token/
    path("", include("jeto_identity.provider.urls")),
    path("", include("jeto_identity.urls")),
    path("", include("jeto_portal.urls")),
]

# A database or Redis outage anywhere in the request answers 503 "try again shortly", never a stack trace.
handler500 = "jeto_identity.core.errors.server_error"
