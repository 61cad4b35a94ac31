"""The same portal with django-oauth-toolkit's stock behaviour, for the side-by-side benchmark.

What differs from config.settings: Django's default password hashers (PBKDF2 first, so DOT hashes client
secrets with PBKDF2 as it does out of the box), DOT's stock OAuth2Validator and oauthlib server, DOT's default
secret generator and default scopes, DOT's own URL set plus a resource view protected the stock way
(ProtectedResourceView), and no fast paths (JETO_FASTPATHS=false: django-csp's, Django's and axes' own classes).
Middleware, database (Django's connection pool), cache and token storage are the portal's, so the difference
measured is the secret hashing, the grant handling and the bearer check.
"""

import os

os.environ["JETO_FASTPATHS"] = "false"  # read by config.settings below

from config.settings import *  # noqa: E402,F403
from config.settings import OAUTH2_PROVIDER  # noqa: E402

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
