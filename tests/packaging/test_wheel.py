"""The wheel holds the app and only the app, and runs on its declared dependencies alone.

Built from the repository's tracked files; installed by pip, with its dependencies from the package registry,
into a virtualenv that sees no other site-packages (see ``host.py``).
"""

from __future__ import annotations

import ast
import json
import re
import sys
import zipfile
from pathlib import Path

import pytest

from tests.packaging.host import run

pytestmark = pytest.mark.slow

# Imports allowed to be missing on the declared dependencies: opt-in modules and guarded imports, each with the
# extra that provides it. Anything else the wheel imports must be a declared dependency.
OPTIONAL_IMPORTS = {
    "csp": ("django-csp", "fastpaths"),
    "redis": ("redis", "fastpaths"),
    "psycopg_pool": ("psycopg", "fastpaths"),  # psycopg[pool]: the fast paths' PostgreSQL backend
}
OPTIONAL_MODULES = ("jeto_identity.contrib.",)


def _requirement_name(line: str) -> str:
    return re.split(r"[\s\[<>=!~;(]", line.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _metadata(wheel: Path) -> tuple[set[str], dict[str, set[str]]]:
    """Declared dependencies, and the distributions of each extra."""
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        lines = archive.read(name).decode().splitlines()
    required: set[str] = set()
    extras: dict[str, set[str]] = {}
    for line in lines:
        if not line.startswith("Requires-Dist:"):
            continue
        requirement = line.split(":", 1)[1]
        extra = re.search(r"extra\s*==\s*['\"]([^'\"]+)", requirement)
        if extra:
            extras.setdefault(extra[1], set()).add(_requirement_name(requirement))
        else:
            required.add(_requirement_name(requirement))
    return required, extras


def _imports(wheel: Path) -> dict[str, set[str]]:
    """Top-level names the wheel's modules import anywhere (module level or inside functions) -> modules."""
    found: dict[str, set[str]] = {}
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if not name.endswith(".py"):
                continue
            for node in ast.walk(ast.parse(archive.read(name))):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    found.setdefault(module.split(".")[0], set()).add(name)
    return {top: files for top, files in found.items() if top not in sys.stdlib_module_names and top != "jeto_identity"}


def test_wheel_holds_the_app_with_its_templates_and_nothing_else(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    packages = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert packages == {"jeto_identity"}  # not the portal, its settings or the tests
    assert "jeto_identity/templates/jeto_identity/base.html" in names
    assert any(n.startswith("jeto_identity/templates/jeto_identity/login/") for n in names)
    assert any(n.startswith("jeto_identity/migrations/0001_") for n in names)
    assert "jeto_identity/login/views.py" in names  # admin_login ships with the app


def test_everything_the_wheel_imports_is_a_declared_dependency(wheel, host_python):
    required, extras = _metadata(wheel)
    imports = _imports(wheel)
    script = "import importlib.metadata as m, json; print(json.dumps(m.packages_distributions()))"
    distributions = json.loads(run(host_python, "-c", script, cwd=wheel.parent).stdout)
    undeclared = {}
    for top, files in sorted(imports.items()):
        if top in OPTIONAL_IMPORTS:
            distribution, extra = OPTIONAL_IMPORTS[top]
            assert distribution in extras.get(extra, set()), f"{top}: {distribution} is not in the {extra!r} extra"
            continue
        dists = {_requirement_name(d) for d in distributions.get(top, [])}
        if not dists & required:
            undeclared[top] = sorted(files)
    assert undeclared == {}, f"imported but not declared in [project] dependencies: {undeclared}"


IMPORT_ALL = """
import importlib, json, sys, zipfile
import django
django.setup()
failed = {}
for name in sorted(sys.argv[1:]):
    try:
        importlib.import_module(name)
    except ImportError as exc:
        failed[name] = getattr(exc, "name", None) or str(exc)
print(json.dumps(failed))
"""


def test_every_module_imports_on_the_declared_dependencies_alone(wheel, host_project):
    with zipfile.ZipFile(wheel) as archive:
        modules = sorted(
            n[: -len(".py")].replace("/", ".").removesuffix(".__init__")
            for n in archive.namelist()
            if n.endswith(".py")
        )
    where = host_project.manage("shell", "--no-imports", "-c", "import jeto_identity; print(jeto_identity.__file__)")
    assert "site-packages" in where.stdout, "jeto_identity must come from the installed wheel"
    result = run(host_project.python, "-c", IMPORT_ALL, *modules, cwd=host_project.directory, env=host_project.env)
    failed = json.loads(result.stdout.strip().splitlines()[-1])
    unexpected = {
        module: missing
        for module, missing in failed.items()
        if not (module.startswith(OPTIONAL_MODULES) and missing.split(".")[0] in OPTIONAL_IMPORTS)
    }
    assert unexpected == {}
    assert len(modules) > 100


def test_nothing_from_the_development_tree_is_importable(host_project):
    script = (
        "import importlib.util as u, json;"
        "print(json.dumps([m for m in ('config', 'jeto_portal', 'tests', 'pytest', 'authlib') if u.find_spec(m)]))"
    )
    result = run(host_project.python, "-c", script, cwd=host_project.directory, env=host_project.env)
    assert json.loads(result.stdout) == []
