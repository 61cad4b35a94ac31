"""The same portal with django-oauth-toolkit's stock behaviour, for the side-by-side benchmark.

What differs from config.settings: Django's default password hashers (PBKDF2 first, so DOT hashes client secrets
with PBKDF2 as it does out of the box), DOT's stock OAuth2Validator, DOT's default secret generator, and DOT's
own URL set plus a resource view protected the stock way (ProtectedResourceView). Middleware, database, cache and
token storage are the portal's, so the difference measured is the secret hashing and the bearer check.
"""

from config.settings import *  # noqa: F403
from config.settings import OAUTH2_PROVIDER

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

OAUTH2_PROVIDER = {
    **{k: v for k, v in OAUTH2_PROVIDER.items() if k not in ("CLIENT_SECRET_HASHER", "CLIENT_SECRET_GENERATOR_CLASS")},
    "OAUTH2_VALIDATOR_CLASS": "oauth2_provider.oauth2_validators.OAuth2Validator",
}

ROOT_URLCONF = "benchmarks.stock_urls"
