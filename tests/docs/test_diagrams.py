"""Each way-in diagram names real code: every module path imports, every ``Class.method`` exists, every URL resolves,
and every setting it names is one the code has."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
from django.urls import Resolver404, resolve

from jeto_identity.conf import DEFAULTS
from tests.docs.site import DOCS, ROOT, diagrams

FLOWS = sorted((DOCS / "flows").glob("*.md"))
DIAGRAM_PAGES = [page for page in FLOWS if diagrams(page)]
# Feature packages of the app: a diagram writes ``login.services.begin`` for ``jeto_identity.login.services.begin``.
APP_PACKAGES = (
    "login",
    "provider",
    "sso",
    "mfa",
    "connections",
    "throttle",
    "core",
    "audit",
    "orgadmin",
    "contrib",
    "provisioning",
    "security",
)
_PACKAGE = rf"(?:jeto_identity\.|jeto_portal\.|(?=(?:{'|'.join(APP_PACKAGES)})\.))"
DOTTED = re.compile(rf"(?<![\w./-]){_PACKAGE}[a-z_]+(?:\.[A-Za-z_]\w*)+")
METHOD = re.compile(r"\b([A-Z][A-Za-z0-9]+)\.([a-z_]\w*)\(?")
# Paths keep their case (SCIM's ``/scim/v2/Users/{id}``); ``{id}`` stands for any identifier.
URL = re.compile(r"(?<![\w.{}+])/(?:(?:[A-Za-z0-9_.-]+|\{id\})/)+(?:[A-Za-z0-9_-]+\b|\{id\})?")
SETTING = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")
PORTAL_SETTINGS = (ROOT / "config" / "settings.py").read_text()


def _resolve_dotted(path: str) -> object:
    """Import the longest importable module prefix of ``path`` and follow the rest as attributes."""
    full = path if path.startswith(("jeto_identity.", "jeto_portal.")) else f"jeto_identity.{path}"
    parts = full.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            target = getattr(target, name)
        return target
    raise ModuleNotFoundError(full)


def _page_text(page: Path) -> str:
    """The diagrams and the code table of a page (where the names are)."""
    return page.read_text()


@pytest.mark.parametrize("page", DIAGRAM_PAGES, ids=lambda p: p.stem)
def test_every_code_name_in_the_page_exists(page):
    text = _page_text(page)
    names = sorted(set(DOTTED.findall(text)))
    in_diagrams = {n for source in diagrams(page) for n in DOTTED.findall(source)}
    assert len(in_diagrams) >= 5, f"{page.name}: a diagram should name the views and services it draws"
    missing = []
    for name in names:
        try:
            _resolve_dotted(name.rstrip("."))
        except (ImportError, AttributeError) as exc:
            missing.append(f"{name}: {exc}")
    assert missing == []


@pytest.mark.parametrize("page", DIAGRAM_PAGES, ids=lambda p: p.stem)
def test_every_class_method_in_the_diagrams_exists(page):
    """``SSOCallbackView._check_state()``: the class is named in full on the page, and has that method."""
    text = _page_text(page)
    classes = {}
    for name in DOTTED.findall(text):
        try:
            target = _resolve_dotted(name)
        except (ImportError, AttributeError):
            continue
        if isinstance(target, type):
            classes[target.__name__] = target
    for source in diagrams(page):
        for class_name, method in METHOD.findall(source):
            if class_name not in classes:
                continue  # prose such as "Django login()"; named classes are checked above
            assert hasattr(classes[class_name], method), f"{class_name}.{method} in {page.name}"
        for line in source.splitlines():  # ``.validate_scopes()`` continuing a class named on the line before
            for method in re.findall(r"(?:^|<br/>)\.([a-z_]\w*)\(", line):
                assert any(hasattr(cls, method) for cls in classes.values()), f".{method} in {page.name}"


@pytest.mark.parametrize("page", DIAGRAM_PAGES, ids=lambda p: p.stem)
def test_every_url_in_the_diagrams_resolves(page):
    messages = [
        line
        for source in diagrams(page)
        for line in source.splitlines()
        if not line.strip().startswith(("participant ", "actor "))  # labels such as "Jeto /sso/{id}/..."
    ]
    urls = sorted({url for line in messages for url in URL.findall(line)})
    assert urls, page.name
    assert _unresolved(urls) == []


def _unresolved(urls: list[str]) -> list[str]:
    """The URLs no view of ours serves (``{id}`` stands for an identifier)."""
    unresolved = []
    for url in urls:
        concrete = url.replace("{id}", "0c6f4f0e-4a4c-4c43-9b7e-5d3c1f2b8a11")
        try:
            match = resolve(concrete)
        except Resolver404:
            unresolved.append(url)
            continue
        if match.url_name is None and match.route.endswith("<path:rest>"):
            unresolved.append(url)  # only a catch-all answers it (e.g. SCIM's 404 for any other path)
    return unresolved


@pytest.mark.parametrize("page", FLOWS, ids=lambda p: p.stem)
def test_every_setting_named_exists(page):
    """A name like ``SSO_STATE_MAX_AGE`` is a ``JETO_IDENTITY`` default or a setting the portal reads."""
    words = set(SETTING.findall(page.read_text()))
    not_settings = {"ID_TOKEN"}  # none so far; keeps the pattern honest if prose needs one
    unknown = sorted(w for w in words - not_settings if w not in DEFAULTS and f"{w} =" not in PORTAL_SETTINGS)
    assert unknown == []


def test_the_resolver_finds_nothing_that_does_not_exist():
    """The checks above can fail: a made-up name and a made-up URL are refused."""
    with pytest.raises(AttributeError):
        _resolve_dotted("login.services.no_such_function")
    with pytest.raises((ImportError, AttributeError)):
        _resolve_dotted("jeto_portal.api.nowhere")
    with pytest.raises(Resolver404):
        resolve("/login/no-such-step/")
    assert DOTTED.findall("see login.views.EmailStepView and jeto_portal.api.bearer.forget()") == [
        "login.views.EmailStepView",
        "jeto_portal.api.bearer.forget",
    ]


def test_the_url_check_sees_scim_paths_and_refuses_what_only_a_catch_all_answers():
    line = "IdP->>S: PATCH /scim/v2/Users/{id} and GET /scim/v2/Groups?filter=..."
    assert URL.findall(line) == ["/scim/v2/Users/{id}", "/scim/v2/Groups"]
    assert _unresolved(["/scim/v2/Users/{id}", "/scim/v2/Groups", "/account/sessions/{id}/end/"]) == []
    assert _unresolved(["/scim/v2/Accounts", "/scim/v2/Users/{id}/extra"]) == [
        "/scim/v2/Accounts",
        "/scim/v2/Users/{id}/extra",
    ]
