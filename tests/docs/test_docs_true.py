"""What the README and the docs tell a reader to type or set exists: make targets, environment variables, settings."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from jeto_identity.conf import DEFAULTS
from tests.docs.site import DOCS, ROOT

README = ROOT / "README.md"
MAKEFILE = (ROOT / "Makefile").read_text()
PORTAL_SETTINGS = (ROOT / "config" / "settings.py").read_text()
# docs/sso-admins.md's settings table: `JETO_IDENTITY` key | environment variable (or —) | default | meaning.
SSO_ROW = re.compile(r"^\| `([A-Z_]+)` \| (`[A-Z_]+`[^|]*|—) \| ([^|]+) \|", re.M)
MAKE_COMMAND = re.compile(r"^make (?P<target>[a-z][a-z0-9-]*)", re.M)


def make_targets() -> set[str]:
    return set(re.findall(r"^([a-z][a-z0-9-]*):", MAKEFILE, re.M))


def target_recipe(target: str) -> str:
    """The recipe lines of a Makefile target (its dependencies on the first line)."""
    match = re.search(rf"^{target}:(?P<deps>.*)\n(?P<recipe>(?:\t.*\n)*)", MAKEFILE, re.M)
    assert match, f"no target {target!r}"
    return match["deps"] + "\n" + match["recipe"]


def test_the_readmes_two_commands_are_makefile_targets():
    block = re.search(r"```sh\n(?P<body>.*?)```", README.read_text(), re.S)["body"]
    commands = [m["target"] for m in MAKE_COMMAND.finditer(block)]
    assert commands == ["run", "test"]
    assert set(commands) <= make_targets()
    # `make test` is what CI runs: ruff, migrations check and the whole suite, docs included (tests/docs/).
    assert "lint" in target_recipe("test") and "$(BIN)/pytest" in target_recipe("test")
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    assert "browser" in target_recipe("test")  # Debian's chromium, for the site and screenshot tests


def test_every_make_command_in_the_docs_is_a_target():
    texts = [README.read_text(), *(p.read_text() for p in DOCS.rglob("*.md"))]
    named = {m["target"] for text in texts for m in re.finditer(r"(?:^|`)make (?P<target>[a-z][a-z0-9-]*)", text, re.M)}
    assert {"run", "test", "docs", "screenshots"} <= named
    assert named - make_targets() == set()


def test_make_docs_builds_strictly():
    assert "mkdocs build --strict" in target_recipe("docs")


def test_the_readmes_links_to_docs_exist():
    links = re.findall(r"\]\((docs/[^)#]+)(?:#[^)]*)?\)", README.read_text())
    assert len(links) >= 10
    assert [link for link in links if not (ROOT / link).is_file()] == []


def _table_names(text: str) -> list[str]:
    """Setting names in the first column of the docs' tables (``| `A` / `B` | ...``)."""
    rows = re.findall(r"^\| (`[A-Z][A-Z0-9_]+`(?: / `[A-Z][A-Z0-9_]+`)*) \|", text, re.M)
    return [name for row in rows for name in re.findall(r"`([A-Z0-9_]+)`", row)]


@pytest.mark.parametrize("page", ["operators.md", "application-connections.md", "security.md"])
def test_every_environment_variable_in_the_tables_is_read_by_the_portal(page):
    names = _table_names((DOCS / page).read_text())
    assert len(names) >= 4
    assert [name for name in names if f'"{name}"' not in PORTAL_SETTINGS] == []


def test_the_single_sign_on_settings_table_matches_the_defaults():
    """docs/sso-admins.md: `JETO_IDENTITY` key | environment variable | default | meaning."""
    rows = SSO_ROW.findall((DOCS / "sso-admins.md").read_text())
    assert len(rows) >= 5
    for key, variable, default in rows:
        assert key in DEFAULTS, key
        if variable != "—":
            assert f'"{variable.split("`")[1]}"' in PORTAL_SETTINGS, variable
        literal = default.strip().strip("`")
        try:
            value = ast.literal_eval(literal)
        except (ValueError, SyntaxError):
            continue  # "DEBUG", "derived from SECRET_KEY": prose, not a value
        assert value == DEFAULTS[key], f"{key}: docs say {literal}, the code's default is {DEFAULTS[key]!r}"


def test_the_documented_defaults_of_the_mfa_and_sso_settings_are_the_codes():
    """Values the flow diagrams and the help page quote."""
    assert DEFAULTS["CLIENT_SECRET_GRACE_SECONDS"] == 24 * 60 * 60  # "24 h"
    assert DEFAULTS["MFA_MAX_CHALLENGE_FAILURES"] == 5  # "after five wrong codes"
    assert 'env.float("API_BEARER_CACHE_SECONDS", default=1' in PORTAL_SETTINGS  # "1 s"
    assert 'env.int("LOGIN_LOCKOUT_SECONDS", default=15 * 60)' in PORTAL_SETTINGS  # "15 minutes by default"


def test_a_wrong_default_in_the_docs_would_be_caught(tmp_path: Path):
    """The table parser reads what it should: a changed default no longer equals the code's."""
    row = "| `SSO_STATE_MAX_AGE` | — | `601` | Seconds. |"
    key, _variable, default = SSO_ROW.findall(row)[0]
    assert ast.literal_eval(default.strip().strip("`")) != DEFAULTS[key]
