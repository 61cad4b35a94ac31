"""Old dotted paths that settings, sessions or earlier docs name still import, as the same objects, with a warning."""

from __future__ import annotations

import importlib
import sys

import pytest
from django.contrib.auth import get_user, load_backend
from django.test import RequestFactory

from jeto_identity.core.deprecated_paths import MOVED


@pytest.mark.parametrize(("old", "new"), sorted(MOVED.items()))
def test_old_module_path_is_the_new_module_with_a_deprecation_warning(old, new):
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=new.replace(".", r"\.")):
        module = importlib.import_module(old)
    assert module is importlib.import_module(new)
    assert module.__spec__.name == new  # the real module keeps its own identity


def test_settings_style_paths_resolve_to_the_same_classes():
    from django.utils.module_loading import import_string

    from jeto_identity.core.hashers import OwaspArgon2PasswordHasher
    from jeto_identity.mfa.middleware import MFAPolicyMiddleware

    with pytest.warns(DeprecationWarning):
        sys.modules.pop("jeto_identity.hashers", None)
        assert import_string("jeto_identity.hashers.OwaspArgon2PasswordHasher") is OwaspArgon2PasswordHasher
    sys.modules.pop("jeto_identity.mfa_middleware", None)
    with pytest.warns(DeprecationWarning):
        assert import_string("jeto_identity.mfa_middleware.MFAPolicyMiddleware") is MFAPolicyMiddleware


def test_submodules_of_an_emptied_package_import_by_from_import():
    for name in ("jeto_identity.services.sso", "jeto_identity.services"):
        sys.modules.pop(name, None)
    with pytest.warns(DeprecationWarning):
        from jeto_identity.services import sso
    from jeto_identity.sso import services

    assert sso is services


def test_unknown_old_paths_still_fail():
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("jeto_identity.services.nothing_here")


@pytest.mark.django_db
def test_a_session_signed_in_under_the_stable_backend_path_stays_signed_in(client, acme_member):
    """Every live session stores ``jeto_identity.backends.EmailBackend``: it must keep loading, without a warning."""
    client.force_login(acme_member, backend="jeto_identity.backends.EmailBackend")
    request = RequestFactory().get("/")
    request.session = client.session
    assert get_user(request) == acme_member
    assert type(load_backend("jeto_identity.backends.EmailBackend")).__module__ == "jeto_identity.login.backends"


def test_every_moved_path_is_in_the_upgrading_guide():
    from pathlib import Path

    import jeto_identity

    guide = (Path(jeto_identity.__file__).parent.parent / "docs" / "upgrading.md").read_text()
    assert [old for old, new in MOVED.items() if f"| `{old}` | `{new}` |" not in guide] == []


def test_the_old_database_engine_path_loads_djangos_own_backend():
    from django.db.utils import load_backend

    sys.modules.pop("jeto_identity.db.backends.postgresql.base", None)
    with pytest.warns(DeprecationWarning):
        backend = load_backend("jeto_identity.db.backends.postgresql")
    assert backend is importlib.import_module("django.db.backends.postgresql.base")
