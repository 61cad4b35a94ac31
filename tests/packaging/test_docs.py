"""docs/integrators.md says only what the code does: its settings exist and are read, its code blocks are there."""

from __future__ import annotations

import re
from pathlib import Path

import jeto_identity
from jeto_identity.conf import DEFAULTS
from tests.packaging.host import DOCS, doc_blocks

APP = Path(jeto_identity.__file__).parent


def _documented_jeto_settings() -> list[str]:
    text = DOCS.read_text()
    table = text.split("## Settings you may set in `JETO_IDENTITY`", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([A-Z_]+)` \|", table, re.M)


def test_every_documented_jeto_identity_setting_exists_and_is_read():
    documented = _documented_jeto_settings()
    assert len(documented) >= 8
    sources = "\n".join(p.read_text() for p in APP.rglob("*.py") if p.name != "conf.py")
    assert [key for key in documented if key not in DEFAULTS] == []
    assert [key for key in documented if key not in sources] == []  # read somewhere besides its default


def test_the_host_project_blocks_are_there():
    blocks = doc_blocks(DOCS.read_text())
    assert len(blocks["settings.py"]) == 1 and len(blocks["urls.py"]) == 1
    settings = blocks["settings.py"][0]
    assert "oauth2_provider_settings(" in settings
    assert "jeto_identity.core.password_validation.MinimumLengthValidator" in settings
    assert 'include("jeto_identity.provider.urls")' in blocks["urls.py"][0]
