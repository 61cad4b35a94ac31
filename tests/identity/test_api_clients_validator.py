"""Client authentication parsing for the client-credentials grant, without HTTP."""

from __future__ import annotations

import base64

import pytest
from oauthlib.common import Request

from jeto_identity.connections.grant import presented_credentials


def _request(header: str | None = None, body: str = "grant_type=client_credentials") -> Request:
    headers = {"HTTP_AUTHORIZATION": header} if header else {}
    return Request("https://id.example/o/token/", http_method="POST", body=body, headers=headers)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_basic_credentials_are_form_decoded():
    assert presented_credentials(_request("Basic " + _b64("my%20id:s%2Bcret"))) == ("my id", "s+cret")


def test_basic_scheme_is_case_insensitive():
    assert presented_credentials(_request("basic " + _b64("id:secret"))) == ("id", "secret")


def test_body_credentials():
    body = "grant_type=client_credentials&client_id=id&client_secret=secret"
    assert presented_credentials(_request(body=body)) == ("id", "secret")


@pytest.mark.parametrize(
    "header, body",
    [
        ("Basic " + _b64("id:secret"), "grant_type=client_credentials&client_secret=other"),  # two methods
        ("Basic " + _b64("id:secret"), "grant_type=client_credentials&client_id=someone-else"),
        ("Basic " + _b64("nocolon"), "grant_type=client_credentials"),
        ("Basic " + _b64(":secret"), "grant_type=client_credentials"),
        ("Basic " + _b64("id:"), "grant_type=client_credentials"),
        ("Basic not*base64", "grant_type=client_credentials"),
        ("Basic " + base64.b64encode(b"\xff\xfe:x").decode(), "grant_type=client_credentials"),
        (None, "grant_type=client_credentials&client_id=id"),  # no secret
        (None, "grant_type=client_credentials"),
    ],
)
def test_absent_or_malformed_credentials(header, body):
    assert presented_credentials(_request(header, body)) is None
