"""Per-organisation single sign-on on mozilla-django-oidc: the IdP is loaded from the database for each request.

``metadata`` fetches and caches an IdP's discovery document and JWKS; ``backend`` verifies the callback and hands
the claims to ``services.sso``; ``views`` start the login and receive the callback.
"""
