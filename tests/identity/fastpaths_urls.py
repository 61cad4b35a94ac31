"""The portal's URLs with the fast token endpoint in front, whatever JETO_FASTPATHS says (test_fastpaths)."""

from django.urls import include, path

from config.urls import handler500  # noqa: F401
from config.urls import urlpatterns as portal_urlpatterns

urlpatterns = [path("", include("jeto_identity.contrib.fastpaths.urls")), *portal_urlpatterns]
