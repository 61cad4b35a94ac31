"""Opt-in fast paths: speed-ups that lean on private internals of Django, django-csp, django-axes and
django-oauth-toolkit.

Nothing else in ``jeto_identity`` imports this package: without it the app runs on the plain ORM and the stock
libraries. Each piece keeps the behaviour of the library part it replaces, and ``tests/identity/test_fastpaths.py``
compares it with the stock part, so a library upgrade that changes what a piece leans on fails a test instead of
changing behaviour silently. Pin the libraries' minor versions when you switch these on.

A host switches on the pieces it wants (``docs/integrators.md``, "Fast paths"); all of them:

    OAUTH2_PROVIDER["OAUTH2_VALIDATOR_CLASS"] = "jeto_identity.contrib.fastpaths.validators.FastPathsOAuth2Validator"
    urlpatterns = [path("", include("jeto_identity.contrib.fastpaths.urls")), ...]  # before the provider's URLs
    CACHES["default"]["BACKEND"] = "jeto_identity.contrib.fastpaths.cache.RedisCache"
    AXES_HANDLER = "jeto_identity.contrib.fastpaths.throttle.CacheHandler"
    SESSION_ENGINE = "jeto_identity.contrib.fastpaths.sessions"
    DATABASES["default"]["ENGINE"] = "jeto_identity.contrib.fastpaths.postgresql"  # with OPTIONS["pool"]
    MIDDLEWARE: "jeto_identity.contrib.fastpaths.csp.CSPMiddleware" instead of "csp.middleware.CSPMiddleware"

Modules:

- ``validators``: the client-credentials grant with the client lookup and the token INSERT compiled once
  (``lookup``, ``insert``), the token committed asynchronously (``API_TOKEN_ASYNC_COMMIT``) and outside DOT's
  transaction, and the issued token handed to the token view;
- ``views``/``urls``: DOT's token endpoint sending ``app_authorized`` without reading the token back;
- ``cache``: Django's Redis cache with one redis-py client per pool;
- ``throttle``: django-axes' cache handler reading both counters in one ``MGET``;
- ``csp``: django-csp's middleware building the site-wide policy once;
- ``sessions``: Django's database sessions in fewer statements (``tests/identity/test_fastpaths_sessions.py``).
- ``postgresql``: Django's PostgreSQL backend whose pool lends a connection given back healthy moments ago without
  a health-check round trip (``tests/identity/test_dbpool.py``).
"""
