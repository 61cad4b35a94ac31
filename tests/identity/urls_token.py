"""The portal's URLs plus the throttled token endpoint, until the OpenID Provider mounts /o/ on main."""

from django.urls import path

from config.urls import handler500  # noqa: F401
from config.urls import urlpatterns as portal
from jeto_identity.views.token import ThrottledTokenView

urlpatterns = [path("o/token/", ThrottledTokenView.as_view(), name="token"), *portal]
