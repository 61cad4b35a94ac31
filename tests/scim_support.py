"""SCIM test helpers: a token per organisation and a client that speaks SCIM JSON with it."""

from __future__ import annotations

import json
from typing import Any

import email_validator
import pytest

from jeto_identity.provisioning import tokens

# scim2-models validates emails[].value with email-validator, which refuses special-use names such as *.test (RFC
# 6761). The suite's organisations live under .test, so the tests allow that one name, through the list
# email-validator documents as modifiable. A deployment's real domains are unaffected.
if "test" in email_validator.SPECIAL_USE_DOMAIN_NAMES:
    email_validator.SPECIAL_USE_DOMAIN_NAMES.remove("test")

BASE = "/scim/v2"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


class Scim:
    """Django's test client with an organisation's SCIM token."""

    def __init__(self, client: Any, token: str):
        self.client, self.token = client, token

    def _headers(self) -> dict[str, str]:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token}"}

    def get(self, path: str, **params: Any):
        return self.client.get(BASE + path, params, **self._headers())

    def _send(self, method: str, path: str, body: Any):
        data = body if isinstance(body, (str, bytes)) else json.dumps(body)
        return getattr(self.client, method)(BASE + path, data, content_type="application/scim+json", **self._headers())

    def post(self, path: str, body: Any):
        return self._send("post", path, body)

    def put(self, path: str, body: Any):
        return self._send("put", path, body)

    def patch(self, path: str, body: Any):
        return self._send("patch", path, body)

    def delete(self, path: str):
        return self.client.delete(BASE + path, **self._headers())


def user_body(email: str, given: str = "Pat", family: str = "Doe", **extra: Any) -> dict[str, Any]:
    return {
        "schemas": [USER_SCHEMA],
        "userName": email,
        "name": {"givenName": given, "familyName": family},
        "emails": [{"value": email, "primary": True, "type": "work"}],
        "active": True,
        **extra,
    }


def patch_body(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_SCHEMA], "Operations": list(operations)}


def assert_scim_error(response, status: int, scim_type: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/scim+json")
    body = response.json()
    assert body["schemas"] == [ERROR_SCHEMA]
    assert body["status"] == str(status)
    if scim_type is not None:
        assert body.get("scimType") == scim_type, body
    return body


@pytest.fixture
def acme_token(acme):
    return tokens.issue(acme, "Okta")


@pytest.fixture
def globex_token(globex):
    return tokens.issue(globex, "Entra")


@pytest.fixture
def scim(client, acme_token) -> Scim:
    return Scim(client, acme_token.secret)


@pytest.fixture
def globex_scim(client, globex_token) -> Scim:
    return Scim(client, globex_token.secret)
