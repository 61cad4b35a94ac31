"""Settings for the test suite: the portal's own settings with a throwaway SECRET_KEY when none is set."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-0123456789abcdefghijklmnop")
os.environ.setdefault("SECURE_COOKIES", "false")
os.environ.setdefault("SECURE_HSTS_SECONDS", "0")
# One OIDC signing key for the test run, generated on first use and shared by every process.
os.environ.setdefault("OIDC_KEY_DIR", os.path.join(os.path.dirname(os.path.dirname(__file__)), "var", "test-oidc-keys"))
os.environ.setdefault("OIDC_GENERATE_KEY", "true")
os.environ.setdefault("JETO_FIELD_ENCRYPTION_KEYS", "test-only-field-encryption-key-0123456789")
# Tests opt in to the admin MFA gate where they test it (override_settings).
os.environ.setdefault("JETO_ADMIN_REQUIRES_MFA", "false")

from config.settings import *  # noqa: E402,F403
