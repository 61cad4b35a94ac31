"""Old dotted module paths, kept importable after the feature-first layout. Deprecated: update the path.

Settings and earlier docs name modules by dotted path (``jeto_identity.hashers.OwaspArgon2PasswordHasher``,
``jeto_identity.mfa_middleware.MFAPolicyMiddleware``…). Importing an old path loads the module from its new home
(the very same module object, so ``isinstance`` checks and mocks agree) and warns once with a
``DeprecationWarning``. ``jeto_identity.backends.EmailBackend`` is not here: it is the stable path that live
sessions store, a real module.

``jeto_identity/__init__.py`` puts the finder first on ``sys.meta_path``. It answers only for the names below, none
of which exists as a file any more, so it never hides a real module; being first, it also answers for a submodule
of an aliased package (``jeto_identity.db.backends.postgresql.base``, which Django imports from a database ENGINE
setting) before the path finder would load a second copy.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import types
import warnings
from importlib.machinery import ModuleSpec

MOVED: dict[str, str] = {
    "jeto_identity.admin_connections": "jeto_identity.connections.admin",
    "jeto_identity.admin_mfa": "jeto_identity.mfa.admin",
    "jeto_identity.admin_security": "jeto_identity.audit.admin",
    "jeto_identity.cache.redis": "jeto_identity.contrib.fastpaths.cache",
    "jeto_identity.checks_clients": "jeto_identity.connections.checks",
    "jeto_identity.crypto": "jeto_identity.core.crypto",
    "jeto_identity.csp": "jeto_identity.contrib.fastpaths.csp",
    "jeto_identity.db.backends.postgresql": "django.db.backends.postgresql",
    "jeto_identity.db.backends.postgresql.base": "django.db.backends.postgresql.base",
    "jeto_identity.db.insert": "jeto_identity.contrib.fastpaths.insert",
    "jeto_identity.db.lookup": "jeto_identity.contrib.fastpaths.lookup",
    "jeto_identity.forms": "jeto_identity.login.forms",
    "jeto_identity.hashers": "jeto_identity.core.hashers",
    "jeto_identity.mfa_forms": "jeto_identity.mfa.forms",
    "jeto_identity.mfa_middleware": "jeto_identity.mfa.middleware",
    "jeto_identity.middleware": "jeto_identity.core.middleware",
    "jeto_identity.models.audit": "jeto_identity.audit.models",
    "jeto_identity.models.clients": "jeto_identity.connections.models",
    "jeto_identity.models.mfa": "jeto_identity.mfa.models",
    "jeto_identity.models.oidc": "jeto_identity.provider.models",
    "jeto_identity.models.organizations": "jeto_identity.core.organizations",
    "jeto_identity.models.sso": "jeto_identity.sso.models",
    "jeto_identity.models.users": "jeto_identity.core.users",
    "jeto_identity.net": "jeto_identity.core.net",
    "jeto_identity.password_validation": "jeto_identity.core.password_validation",
    "jeto_identity.provider.client_credentials": "jeto_identity.connections.grant",
    "jeto_identity.provider.token_views": "jeto_identity.contrib.fastpaths.views",
    "jeto_identity.redirects": "jeto_identity.core.redirects",
    "jeto_identity.services.access": "jeto_identity.core.access",
    "jeto_identity.services.audit": "jeto_identity.audit.services",
    "jeto_identity.services.cleanup": "jeto_identity.core.cleanup",
    "jeto_identity.services.clients": "jeto_identity.connections.services",
    "jeto_identity.services.login": "jeto_identity.login.services",
    "jeto_identity.services.mail": "jeto_identity.core.mail",
    "jeto_identity.services.mfa": "jeto_identity.mfa.services",
    "jeto_identity.services.mfa_login": "jeto_identity.mfa.stage",
    "jeto_identity.services.outage": "jeto_identity.core.outage",
    "jeto_identity.services.relying_parties": "jeto_identity.provider.relying_parties",
    "jeto_identity.services.sso": "jeto_identity.sso.services",
    "jeto_identity.services.throttle": "jeto_identity.throttle.services",
    "jeto_identity.services.totp_keys": "jeto_identity.mfa.totp_keys",
    "jeto_identity.signals": "jeto_identity.audit.receivers",
    "jeto_identity.sso.backend": "jeto_identity.sso.oidc.backend",
    "jeto_identity.sso.metadata": "jeto_identity.sso.oidc.metadata",
    "jeto_identity.throttle_handler": "jeto_identity.contrib.fastpaths.throttle",
    "jeto_identity.views.account": "jeto_identity.login.account",
    "jeto_identity.views.errors": "jeto_identity.core.errors",
    "jeto_identity.views.login": "jeto_identity.login.views",
    "jeto_identity.views.mfa": "jeto_identity.mfa.views",
    "jeto_identity.views.token": "jeto_identity.throttle.token_view",
}
# Old packages that no longer hold any module of their own: importing them gives an empty package whose
# submodules resolve through MOVED (``from jeto_identity.services import sso``).
EMPTIED_PACKAGES = frozenset(
    {
        "jeto_identity.cache",
        "jeto_identity.db",
        "jeto_identity.db.backends",
        "jeto_identity.services",
        "jeto_identity.views",
    }
)


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str | None) -> None:
        self.target = target
        self._real_spec: ModuleSpec | None = None

    def create_module(self, spec: ModuleSpec) -> types.ModuleType:
        if self.target is None:
            package = types.ModuleType(spec.name, "Deprecated package: its modules moved (see MOVED).")
            package.__path__ = []
            return package
        warnings.warn(
            f"{spec.name} moved to {self.target}; update the dotted path (the old one will be removed).",
            DeprecationWarning,
            stacklevel=2,
        )
        module = importlib.import_module(self.target)
        self._real_spec = module.__spec__
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        if self._real_spec is not None:
            module.__spec__ = self._real_spec  # importlib set the alias's spec on the real module: put it back


class DeprecatedPathFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: object = None, target: object = None) -> ModuleSpec | None:
        if fullname in MOVED or fullname in EMPTIED_PACKAGES:
            loader = _AliasLoader(MOVED.get(fullname))
            return importlib.util.spec_from_loader(fullname, loader, is_package=fullname in EMPTIED_PACKAGES)
        return None


def install() -> None:
    if not any(isinstance(finder, DeprecatedPathFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, DeprecatedPathFinder())
