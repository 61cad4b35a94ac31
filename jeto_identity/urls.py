"""The app's pages, one namespace (``jeto_identity``), each feature's patterns from its own ``urls.py``.

A host includes this at its root: ``path("", include("jeto_identity.urls"))``, and the OpenID Provider's
``jeto_identity.provider.urls`` beside it (see docs/integrators.md).
"""

from jeto_identity.login import urls as login_urls
from jeto_identity.mfa import urls as mfa_urls
from jeto_identity.mfa.webauthn import urls as webauthn_urls
from jeto_identity.orgadmin import urls as orgadmin_urls
from jeto_identity.provisioning import urls as provisioning_urls
from jeto_identity.security import urls as security_urls
from jeto_identity.sso import urls as sso_urls

app_name = "jeto_identity"

urlpatterns = [
    *login_urls.urlpatterns,
    *sso_urls.urlpatterns,
    *mfa_urls.urlpatterns,
    *orgadmin_urls.urlpatterns,
    *provisioning_urls.urlpatterns,
    *webauthn_urls.urlpatterns,
    *security_urls.urlpatterns,
]
