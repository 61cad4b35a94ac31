"""The OpenID Provider: django-oauth-toolkit configured and extended for Jeto (OIDC Core, Discovery, PKCE)."""
