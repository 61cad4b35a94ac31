"""Portal fixtures: every test starts with an empty Jeto API token cache (it lives in the process)."""

from __future__ import annotations

import pytest

from jeto_portal.api import bearer


@pytest.fixture(autouse=True)
def fresh_bearer_cache():
    bearer.clear_cache()
    yield
    bearer.clear_cache()
