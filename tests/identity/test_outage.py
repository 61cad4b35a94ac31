"""Which requests get JSON error answers (503 outage, 429 lockout): the app's own rule and a host's prefixes."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from jeto_identity.core import outage


@pytest.fixture
def app_prefixes_only(monkeypatch):
    monkeypatch.setattr(outage, "_JSON_PATH_PREFIXES", ["/o/"])


def test_the_provider_endpoints_and_json_clients(app_prefixes_only):
    rf = RequestFactory()
    assert outage.wants_json(rf.post("/o/token/"))
    assert outage.wants_json(rf.get("/login/", HTTP_ACCEPT="application/json"))
    assert not outage.wants_json(rf.get("/login/"))
    assert not outage.wants_json(rf.get("/api/v1/organization"))  # the app knows no API of the host's


def test_a_host_adds_its_api(app_prefixes_only):
    outage.answer_json_under("/reports/")
    outage.answer_json_under("/reports/")
    assert outage.wants_json(RequestFactory().get("/reports/daily"))
    assert outage._JSON_PATH_PREFIXES == ["/o/", "/reports/"]
    response = outage.outage_response(RequestFactory().get("/reports/daily"), "database")
    assert response.status_code == 503 and response["Content-Type"] == "application/json"
