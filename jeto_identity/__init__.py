"""Jeto Identity: a reusable Django identity app (OpenID Provider, per-organisation SSO, TOTP MFA, API clients)."""
