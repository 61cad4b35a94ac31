"""System-check IDs are unique across the app and each one is documented for integrators."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import jeto_identity

APP = Path(jeto_identity.__file__).parent
DOCS = APP.parent / "docs" / "integrators.md"
ID = re.compile(r'id="(jeto_identity\.[EW]\d{3})"')


def declared_ids() -> Counter:
    return Counter(m for path in APP.rglob("*.py") for m in ID.findall(path.read_text()))


def test_every_check_id_is_declared_once():
    ids = declared_ids()
    assert len(ids) >= 10
    assert {i: n for i, n in ids.items() if n > 1} == {}


def test_every_check_id_is_in_the_integrators_guide():
    text = DOCS.read_text()
    missing = sorted(i for i in declared_ids() if i.split(".", 1)[1] not in text)
    assert missing == []


# IDs that earlier versions used for checks that now have other IDs (docs/upgrading.md): a host that silenced one
# must not silence a different check by it.
RETIRED = {
    f"jeto_identity.{i}" for i in ("E004", "E005", "E006", "E010", "E011", "E012", "E102", "W001", "W010", "W020")
}


def test_retired_ids_are_never_reused():
    assert sorted(RETIRED & set(declared_ids())) == []


def test_the_upgrading_guide_lists_every_retired_id():
    text = (APP.parent / "docs" / "upgrading.md").read_text()
    retired = text.split("are **retired**")[0].rsplit("\n\n", 1)[1]
    assert sorted(i for i in RETIRED if f"`{i.split('.', 1)[1]}`" not in retired) == []
