"""DOT's request validator for Jeto (``OAUTH2_PROVIDER["OAUTH2_VALIDATOR_CLASS"]``).

Minimal version from the application-connections work: the OpenID Provider work adds its claims on top.
"""

from oauth2_provider.oauth2_validators import OAuth2Validator

from .client_credentials import ClientCredentialsValidatorMixin
from .token_views import IssuedTokenCaptureMixin


class JetoOAuth2Validator(ClientCredentialsValidatorMixin, IssuedTokenCaptureMixin, OAuth2Validator):
    pass
