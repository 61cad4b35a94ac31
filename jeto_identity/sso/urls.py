"""Single sign-on: start and callback per connection, and the link confirmation page."""

from django.urls import path

from jeto_identity.sso import views
from jeto_identity.sso.oidc import views as oidc_views

urlpatterns = [
    path("sso/<uuid:connection_id>/start/", oidc_views.SSOStartView.as_view(), name="sso_start"),
    path("sso/<uuid:connection_id>/callback/", oidc_views.SSOCallbackView.as_view(), name="sso_callback"),
    path("sso/link/", views.LinkConfirmView.as_view(), name="sso_link_confirm"),
]
