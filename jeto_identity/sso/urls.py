"""Single sign-on: start and callback per connection, and the link confirmation page."""

from django.urls import path

from jeto_identity.sso import views

urlpatterns = [
    path("sso/<uuid:connection_id>/start/", views.SSOStartView.as_view(), name="sso_start"),
    path("sso/<uuid:connection_id>/callback/", views.SSOCallbackView.as_view(), name="sso_callback"),
    path("sso/link/", views.LinkConfirmView.as_view(), name="sso_link_confirm"),
]
