"""Portal settings. Every value comes from the environment (django-environ), read here and nowhere else.

With no environment at all the portal runs on SQLite and the local-memory cache; `DATABASE_URL` and `REDIS_URL`
switch it to PostgreSQL and Redis. See docs/operators.md for every variable.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from jeto_identity.provider.keys import SigningKeyError, load_signing_keys
from jeto_identity.provider.settings import oauth2_provider_settings

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable (50+ random characters), "
            "or DEBUG=true for local development."
        )
    SECRET_KEY = "insecure-development-only-key-do-not-use-in-production-0123456789abcdef"
# Rotating SECRET_KEY: the old one here (comma-separated) keeps sessions, reset links and stored secrets working.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "oauth2_provider",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "jeto_identity",
    "jeto_portal",
    "axes",  # brute-force protection; keep it last (docs/security.md)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "jeto_identity.core.middleware.ServiceUnavailableMiddleware",
    "csp.middleware.CSPMiddleware",  # django-csp (the fast paths below swap in a faster one)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "jeto_identity.core.sessions.SessionRegistryMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "jeto_identity.mfa.middleware.MFAPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "jeto_identity.core.middleware.AuditContextMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Bounded waits: an unreachable database fails fast instead of hanging a worker.
    _DB_OPTIONS = DATABASES["default"].setdefault("OPTIONS", {})
    _DB_OPTIONS.setdefault("connect_timeout", 5)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("DB_CONN_HEALTH_CHECKS", default=True)
    if env.bool("DB_POOL", default=True):
        # Django's connection pool (psycopg_pool): each process keeps its connections open and lends one to each
        # request that uses the database; with health checks on, the pool checks a connection before lending it.
        DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool, not the request cycle, keeps connections
        _DB_OPTIONS["pool"] = {
            "min_size": env.int("DB_POOL_MIN_SIZE", default=1),
            "max_size": env.int("DB_POOL_MAX_SIZE", default=10),  # >= threads per process that use the database
            "timeout": env.float("DB_POOL_TIMEOUT", default=5.0),  # waiting for a free or new connection
        }
        # With the fast paths (below), a connection returned healthy this recently is lent without a check.
        DATABASES["default"]["JETO_POOL_CHECK_IDLE_SECONDS"] = env.float("DB_POOL_CHECK_IDLE_SECONDS", default=0.5)

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="jeto"),
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_USER_MODEL = "jeto_identity.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses locked-out callers before any backend runs
    "jeto_identity.backends.EmailBackend",
    # Single sign-on callback only; answers nothing else (see jeto_identity/sso/backend.py).
    "jeto_identity.sso.oidc.backend.OrganizationOIDCBackend",
]
LOGIN_URL = "jeto_identity:login"
LOGIN_REDIRECT_URL = "jeto_identity:account"
LOGOUT_REDIRECT_URL = "jeto_identity:login"

PASSWORD_HASHERS = [
    "jeto_identity.core.hashers.OwaspArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    # Application connections: identifies client-secret hashes. Never first, so never used for passwords.
    "jeto_identity.core.hashers.ClientSecretHasher",
]

JETO_PASSWORD_MIN_LENGTH = env.int("PASSWORD_MIN_LENGTH", default=12)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": JETO_PASSWORD_MIN_LENGTH},
    },
    {"NAME": "jeto_identity.core.password_validation.MaximumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

JETO_ISSUER = env.str("JETO_ISSUER", default="").rstrip("/")
# The Jeto API's scopes (jeto_portal.api): what an organisation's application connection may be granted.
_API_SCOPES = {
    "org:read": "Read the organisation the client belongs to.",
    "members:read": "List the organisation's members.",
    "members:write": "Change a member's role.",
}
JETO_IDENTITY = {
    "ISSUER": JETO_ISSUER,
    "PASSWORD_MIN_LENGTH": JETO_PASSWORD_MIN_LENGTH,
    "SITE_NAME": env.str("JETO_SITE_NAME", default="Jeto"),
    # Comma-separated, newest first; required in production (see docs/sso-admins.md).
    "FIELD_ENCRYPTION_KEYS": env.list("JETO_FIELD_ENCRYPTION_KEYS", default=[]),
    "SSO_HTTP_TIMEOUT": env.float("JETO_SSO_HTTP_TIMEOUT", default=5.0),
    "SSO_ALLOW_LOCAL_IDPS": env.bool("JETO_SSO_ALLOW_LOCAL_IDPS", default=DEBUG),
    # Application connections (client credentials).
    "API_SCOPES": _API_SCOPES,
    "CLIENT_SECRET_PEPPER": env.list("CLIENT_SECRET_PEPPER", default=[]),  # comma-separated, newest first
    "CLIENT_SECRET_GRACE_SECONDS": env.int("CLIENT_SECRET_GRACE_SECONDS", default=24 * 60 * 60),
    "API_TOKEN_LIFETIME": env.int("API_TOKEN_LIFETIME", default=3600),
    "API_TOKEN_ASYNC_COMMIT": env.bool("API_TOKEN_ASYNC_COMMIT", default=True),
    # On unless DEBUG: staff must pass a second factor (enrolling if needed) before Django admin answers.
    "ADMIN_REQUIRES_MFA": env.bool("JETO_ADMIN_REQUIRES_MFA", default=not DEBUG),
    # Comma-separated; the first encrypts TOTP secrets at rest, all decrypt (rotation). Empty: from SECRET_KEY.
    "TOTP_ENCRYPTION_KEYS": env.list("JETO_TOTP_ENCRYPTION_KEYS", default=[]),
    "AUDIT_RETENTION_DAYS": env.int("AUDIT_RETENTION_DAYS", default=365),
    "TRUSTED_PROXIES": env.list("TRUSTED_PROXIES", default=[]),
    # Passkeys: the relying-party ID (the sign-in site's domain) and the origins allowed to use it (comma-separated).
    "WEBAUTHN_RP_ID": env.str("JETO_WEBAUTHN_RP_ID", default=""),
    "WEBAUTHN_ORIGINS": env.list("JETO_WEBAUTHN_ORIGINS", default=[]),
}

# The Jeto API (jeto_portal.api): how long a web process may reuse a bearer-token check before asking the database
# again (seconds, at most 5). The bound on how long a revoked token or a disabled client's token is still accepted.
API_BEARER_CACHE_SECONDS = env.float("API_BEARER_CACHE_SECONDS", default=1.0)

# Brute-force protection (django-axes, cache handler: counters live in Redis, shared by every node). A failed
# password, OTP code or client secret counts against the account (or client) and against the source address;
# either reaching the limit locks that key for the cool-off period. See docs/security.md.
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_CACHE = "default"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(seconds=env.int("LOGIN_LOCKOUT_SECONDS", default=15 * 60))
AXES_RESET_ON_SUCCESS = False  # a success must not reset the per-address counter of a stuffing run
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # a lockout ends; hammering cannot extend it forever
AXES_USERNAME_FORM_FIELD = "email"
AXES_USERNAME_CALLABLE = "jeto_identity.throttle.services.axes_username"
AXES_CLIENT_IP_CALLABLE = "jeto_identity.core.net.client_ip"
AXES_LOCKOUT_CALLABLE = "jeto_identity.core.errors.locked_out"
AXES_ENABLE_ADMIN = False  # the cache handler keeps no rows; Jeto's "Lockouts" admin lists and clears them
AXES_VERBOSE = False
if not REDIS_URL:
    # Local-memory cache: fine for one development process; production sets REDIS_URL (docs/security.md).
    SILENCED_SYSTEM_CHECKS = ["axes.W001"]

# Content Security Policy (django-csp 4): only our own origin; no inline script or style; no framing or plugins.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],  # blob: lets a page rasterise its own inline QR code
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        # No form-action: browsers apply it to the redirects that follow a form POST, and our sign-in, consent
        # and SSO forms end in redirects to relying parties and IdPs (loopback http:// ones for native apps).
    },
}

# django-otp: never let accepted codes widen the window (at most one 30 s step either side of our clock);
# failed codes wait 1, 2, 4, 8 ... seconds (doubling per consecutive failure, reset by a success).
OTP_TOTP_SYNC = False
OTP_TOTP_THROTTLE_FACTOR = env.int("OTP_THROTTLE_FACTOR", default=1)
OTP_STATIC_THROTTLE_FACTOR = OTP_TOTP_THROTTLE_FACTOR
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# OpenID Provider (django-oauth-toolkit). Signing keys: docs/key-rotation.md; integrators: docs/integrators-oidc.md.
OIDC_KEY_DIR = env.str("OIDC_KEY_DIR", default=str(VAR_DIR / "oidc-keys") if DEBUG else "")
try:
    _OIDC_KEYS = load_signing_keys(
        pem=env.str("OIDC_RSA_PRIVATE_KEY", default=""),
        pem_file=env.str("OIDC_RSA_PRIVATE_KEY_FILE", default=""),
        previous=env.str("OIDC_RSA_PREVIOUS_KEYS", default=""),
        previous_file=env.str("OIDC_RSA_PREVIOUS_KEYS_FILE", default=""),
        key_dir=OIDC_KEY_DIR,
        generate=env.bool("OIDC_GENERATE_KEY", default=DEBUG),
    )
except SigningKeyError as exc:
    raise ImproperlyConfigured(f"OIDC signing key: {exc}") from None
if not _OIDC_KEYS.current:
    raise ImproperlyConfigured(
        "No OIDC signing key. Set OIDC_RSA_PRIVATE_KEY (PEM) or OIDC_RSA_PRIVATE_KEY_FILE, or OIDC_KEY_DIR "
        "(see docs/key-rotation.md), or DEBUG=true to generate a development key under var/."
    )

OAUTH2_PROVIDER_APPLICATION_MODEL = "jeto_identity.OAuthClient"
# Jeto's server, validator, scopes (OIDC + the Jeto API's), PKCE S256, RFC 9700 switches and the
# application connections' client-secret scheme come from the app; the portal sets lifetimes from the environment.
OAUTH2_PROVIDER = oauth2_provider_settings(
    issuer=JETO_ISSUER,
    signing_key=_OIDC_KEYS.current,
    previous_signing_keys=_OIDC_KEYS.previous,
    api_scopes=_API_SCOPES,
    AUTHORIZATION_CODE_EXPIRE_SECONDS=min(env.int("OIDC_CODE_LIFETIME", default=60), 600),  # RFC 6749: <= 10 min
    ACCESS_TOKEN_EXPIRE_SECONDS=env.int("OIDC_ACCESS_TOKEN_LIFETIME", default=15 * 60),
    ID_TOKEN_EXPIRE_SECONDS=env.int("OIDC_ID_TOKEN_LIFETIME", default=15 * 60),
    REFRESH_TOKEN_EXPIRE_SECONDS=env.int("OIDC_REFRESH_TOKEN_IDLE_LIFETIME", default=14 * 24 * 60 * 60),
    ALLOWED_REDIRECT_URI_SCHEMES=env.list("OIDC_REDIRECT_URI_SCHEMES", default=["https", "http"]),
)

# --- Opt-in fast paths (jeto_identity.contrib.fastpaths; docs/integrators.md, "Fast paths") ------------------
# Speed-ups that lean on private internals of Django, django-csp, django-axes and django-oauth-toolkit; each has a
# test that fails when its library changes under it. The portal runs with them; JETO_FASTPATHS=false runs it on
# the stock libraries only (nothing else imports the package). config/urls.py mounts the fast token endpoint.
JETO_FASTPATHS = env.bool("JETO_FASTPATHS", default=True)
if JETO_FASTPATHS:
    MIDDLEWARE[MIDDLEWARE.index("csp.middleware.CSPMiddleware")] = "jeto_identity.contrib.fastpaths.csp.CSPMiddleware"
    if REDIS_URL:
        CACHES["default"]["BACKEND"] = "jeto_identity.contrib.fastpaths.cache.RedisCache"
    AXES_HANDLER = "jeto_identity.contrib.fastpaths.throttle.CacheHandler"
    SESSION_ENGINE = "jeto_identity.contrib.fastpaths.sessions"  # Django's table and rows, fewer statements
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Django's backend; its pool skips the health check of a connection returned moments ago
        DATABASES["default"]["ENGINE"] = "jeto_identity.contrib.fastpaths.postgresql"
    OAUTH2_PROVIDER["OAUTH2_VALIDATOR_CLASS"] = "jeto_identity.contrib.fastpaths.validators.FastPathsOAuth2Validator"

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Jeto Identity <no-reply@localhost>")
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=60 * 60)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cookies and transport security. Secure cookies and HSTS are on unless DEBUG; behind TLS-terminating proxies
# set SECURE_PROXY_SSL_HEADER through TRUST_X_FORWARDED_PROTO.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"  # Lax keeps top-level OIDC/SSO redirects (GET) working.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 12)
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env.bool("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json_line": {"format": "%(message)s"},
    },
    "handlers": {
        "stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "plain"},
        "audit": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "json_line"},
    },
    "root": {"handlers": ["stdout"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # One JSON object per line (the message is the JSON) for log shipping; see services/audit.py.
        "jeto_identity.audit": {"handlers": ["audit"], "level": "INFO", "propagate": False},
    },
}
