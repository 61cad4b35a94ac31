"""Schemathesis against the Jeto API's own OpenAPI document: no 500s, and malformed input is never a 2xx.

Driven through schemathesis' Python API with hypothesis (its pytest plugin is not compatible with this pytest).
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection

from jeto_identity.connections import services as clients
from tests.api_clients_support import get_token

pytestmark = pytest.mark.django_db(transaction=True)  # committed data: the WSGI app may use its own connection
FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture
def api(client, acme, acme_member, settings):
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]  # schemathesis calls the WSGI app as localhost
    issued = clients.issue_client(organization=acme, name="fuzz", scopes="org:read members:read members:write")
    token = get_token(client, issued)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", WSGIHandler())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the API documents no operation"
    return operations, {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_never_500_and_rejects_malformed_input(api, mode):
    operations, headers = api
    statuses: list[int] = []
    for operation in operations:

        @FUZZ
        @given(case=operation.as_strategy(generation_mode=mode))
        def check(case):
            response = case.call_and_validate(headers=headers, checks=[not_a_server_error, negative_data_rejection])
            statuses.append(response.status_code)

        try:
            check()
        except Unsatisfiable:
            # No input of this operation can be made invalid (e.g. GET /organization takes none): nothing to test.
            assert mode == GenerationMode.NEGATIVE, operation.label
    assert len(statuses) >= len(operations), "the fuzzer sent too few requests"
    assert all(status < 500 for status in statuses)
