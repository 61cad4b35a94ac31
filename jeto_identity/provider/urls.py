"""The OpenID Provider's URLs, in django-oauth-toolkit's ``oauth2_provider`` namespace (DOT reverses its names).

Discovery sits at the issuer root (``{issuer}/.well-known/openid-configuration``); every other endpoint lives
under the stable ``o/`` prefix. Include it at the root: ``path("", include("jeto_identity.provider.urls"))``.
"""

from django.urls import path
from oauth2_provider import views as dot_views

from jeto_identity.provider import views

app_name = "oauth2_provider"

urlpatterns = [
    path(".well-known/openid-configuration", views.DiscoveryView.as_view(), name="oidc-connect-discovery-info"),
    path("o/authorize/", views.AuthorizationView.as_view(), name="authorize"),
    path("o/token/", views.TokenView.as_view(), name="token"),
    path("o/revoke/", views.RevokeTokenView.as_view(), name="revoke-token"),
    path("o/introspect/", views.IntrospectTokenView.as_view(), name="introspect"),
    path("o/userinfo/", views.UserInfoView.as_view(), name="user-info"),
    path("o/jwks/", dot_views.JwksInfoView.as_view(), name="jwks-info"),
    path("o/logout/", views.RPInitiatedLogoutView.as_view(), name="rp-initiated-logout"),
]
