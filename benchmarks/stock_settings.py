"""The same portal with django-oauth-toolkit's stock behaviour, for the side-by-side benchmark.

What differs from config.settings: Django's default password hashers (PBKDF2 first, so DOT hashes client
secrets with PBKDF2 as it does out of the box), DOT's stock OAuth2Validator and oauthlib server, DOT's default
secret generator and default scopes, and DOT's own URL set plus a resource view protected the stock way
(ProtectedResourceView). Middleware, database, cache and token storage are the portal's, so the difference
measured is the secret hashing, the grant handling, the bearer check and Django's stock PostgreSQL backend
(a health-check ping on every request, where the portal skips it on a connection proven in the last second).
"""

from config.settings import *  # noqa: F403
from config.settings import DATABASES, OAUTH2_PROVIDER

DATABASES = {"default": {k: v for k, v in DATABASES["default"].items() if k != "HEALTH_CHECK_BYPASS_SECONDS"}}
if DATABASES["default"]["ENGINE"] == "jeto_identity.db.backends.postgresql":
    DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

_JETO_ONLY = ("CLIENT_SECRET_HASHER", "CLIENT_SECRET_GENERATOR_CLASS", "OIDC_SERVER_CLASS", "ACCESS_TOKEN_GENERATOR")
OAUTH2_PROVIDER = {
    **{k: v for k, v in OAUTH2_PROVIDER.items() if k not in _JETO_ONLY},
    "OAUTH2_VALIDATOR_CLASS": "oauth2_provider.oauth2_validators.OAuth2Validator",
    "OIDC_ENABLED": False,  # DOT's plain OAuth 2.0 server (oauthlib.oauth2.Server)
    "DEFAULT_SCOPES": ["__all__"],  # DOT's default
}

ROOT_URLCONF = "benchmarks.stock_urls"
