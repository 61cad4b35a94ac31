"""The served OpenAPI document stays true: every route documented, scopes match, real responses validate."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern
from jsonschema import Draft202012Validator
from oauth2_provider.settings import oauth2_settings

from jeto_identity.connections import services as clients
from jeto_portal.api import urls as api_urls
from jeto_portal.api import views
from tests.api_clients_support import api, get_token

HTTP_METHODS = {"get", "patch", "post", "put", "delete"}


@pytest.fixture
def doc(client, db):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def _openapi_path(pattern: URLPattern) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(pattern.pattern))


def _schema_validator(doc: dict, ref: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": ref, "components": doc["components"]})


def _response_schema(doc: dict, path: str, method: str, status: int) -> Draft202012Validator:
    response = doc["paths"][path][method]["responses"][str(status)]
    return _schema_validator(doc, response["content"]["application/json"]["schema"]["$ref"])


def test_document_is_valid_openapi_shape(doc):
    assert doc["openapi"].startswith("3.1")
    assert doc["servers"][0]["url"].endswith("/api/v1")
    flow = doc["components"]["securitySchemes"]["applicationConnection"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"].endswith("/o/token/")
    assert flow["scopes"] == clients.api_scopes()
    for name in flow["scopes"]:
        assert name in oauth2_settings.SCOPES  # DOT knows every API scope


def test_every_route_is_documented_and_every_documented_path_exists(doc):
    routes = {_openapi_path(p) for p in api_urls.urlpatterns if p.name != "openapi"}
    assert routes == set(doc["paths"])


ROUTE_VIEWS = {
    ("/organization", "get"): views._organization,
    ("/members", "get"): views._members,
    ("/members/{user_id}", "get"): views._member_get,
    ("/members/{user_id}", "patch"): views._member_patch,
}


def test_documented_security_matches_the_code(doc):
    documented = {
        (path, method): op["security"][0]["applicationConnection"]
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in HTTP_METHODS
    }
    assert set(documented) == set(ROUTE_VIEWS)
    for key, view in ROUTE_VIEWS.items():
        assert documented[key] == [view.required_scope]
        assert view.required_scope in clients.api_scopes()


def test_undocumented_methods_are_refused(client, doc, acme_writer):
    token = get_token(client, acme_writer)
    for path, item in doc["paths"].items():
        concrete = path.replace("{user_id}", "00000000-0000-0000-0000-000000000000")
        for method in HTTP_METHODS - set(item):
            response = api(client, concrete.lstrip("/"), token, method)
            assert response.status_code == 405, (path, method)


def test_real_responses_match_the_schemas(client, doc, acme_writer, acme_member):
    token = get_token(client, acme_writer)
    _response_schema(doc, "/organization", "get", 200).validate(api(client, "organization", token).json())
    _response_schema(doc, "/members", "get", 200).validate(api(client, "members", token).json())
    member = api(client, f"members/{acme_member.pk}", token).json()
    _response_schema(doc, "/members/{user_id}", "get", 200).validate(member)
    _schema_validator(doc, "#/components/schemas/RoleChange").validate({"role": "admin"})
    changed = api(
        client, f"members/{acme_member.pk}", token, "patch", data='{"role": "admin"}', content_type="application/json"
    )
    _response_schema(doc, "/members/{user_id}", "patch", 200).validate(changed.json())
    error = api(client, "members/00000000-0000-0000-0000-000000000000", token).json()
    _response_schema(doc, "/members/{user_id}", "get", 404).validate(error)
    unauth = client.get("/api/v1/members").json()
    _response_schema(doc, "/members", "get", 401).validate(unauth)
