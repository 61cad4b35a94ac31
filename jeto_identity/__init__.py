"""Jeto Identity: a reusable Django identity app (OpenID Provider, per-organisation SSO, TOTP MFA, API clients)."""

from jeto_identity.core.deprecated_paths import install as _install_deprecated_paths

_install_deprecated_paths()
