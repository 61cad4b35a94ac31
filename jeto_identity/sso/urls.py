"""Single sign-on: start and callback (OIDC) or start, ACS and metadata (SAML) per connection; link confirmation."""

from django.urls import path

from jeto_identity.sso import views
from jeto_identity.sso.oidc import views as oidc_views
from jeto_identity.sso.saml import views as saml_views

urlpatterns = [
    path("sso/<uuid:connection_id>/start/", oidc_views.SSOStartView.as_view(), name="sso_start"),
    path("sso/<uuid:connection_id>/callback/", oidc_views.SSOCallbackView.as_view(), name="sso_callback"),
    path("sso/<uuid:connection_id>/saml/start/", saml_views.SAMLStartView.as_view(), name="saml_start"),
    path("sso/<uuid:connection_id>/saml/acs/", saml_views.SAMLAssertionConsumerView.as_view(), name="saml_acs"),
    path("sso/<uuid:connection_id>/saml/metadata/", saml_views.SAMLMetadataView.as_view(), name="saml_metadata"),
    path("sso/link/", views.LinkConfirmView.as_view(), name="sso_link_confirm"),
]
