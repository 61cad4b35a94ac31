"""The fast token endpoint. Include it before the provider's URLs, at the same root::

    path("", include("jeto_identity.contrib.fastpaths.urls")),
    path("", include("jeto_identity.provider.urls")),

It answers ``o/token/`` first; ``reverse("oauth2_provider:token")`` still gives the same path.
"""

from django.urls import path

from jeto_identity.contrib.fastpaths.views import TokenView

urlpatterns = [
    path("o/token/", TokenView.as_view(), name="fastpaths-token"),
]
