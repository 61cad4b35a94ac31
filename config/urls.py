from django.contrib import admin
from django.urls import include, path

from jeto_portal.views import admin_login

urlpatterns = [
    path("admin/login/", admin_login),
    path("admin/", admin.site.urls),
    path("api/v1/", include("jeto_portal.api.urls")),  # application connections' Jeto API
    path("", include("jeto_identity.provider.urls")),
    path("", include("jeto_identity.urls")),
    path("", include("jeto_portal.urls")),
]

# A database or Redis outage anywhere in the request answers 503 "try again shortly", never a stack trace.
handler500 = "jeto_identity.views.errors.server_error"
