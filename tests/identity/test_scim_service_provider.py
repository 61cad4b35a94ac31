"""What the SCIM service provider announces, its one entitlement gate, and its system checks."""

from __future__ import annotations

import pytest
from django.core import checks
from django.test import Client

from jeto_identity.provisioning import checks as scim_checks
from tests.scim_support import Scim, assert_scim_error, user_body

pytestmark = pytest.mark.django_db


def test_service_provider_config_claims_only_what_is_built(scim):
    config = scim.get("/ServiceProviderConfig").json()
    assert config["patch"] == {"supported": True}
    assert config["filter"] == {"supported": True, "maxResults": 200}
    assert config["bulk"]["supported"] is False
    assert config["etag"] == {"supported": False}
    assert config["sort"] == {"supported": False}
    assert config["changePassword"] == {"supported": False}
    assert config["authenticationSchemes"][0]["type"] == "oauthbearertoken"


def test_resource_types_and_schemas(scim):
    types = {t["id"]: t for t in scim.get("/ResourceTypes").json()["Resources"]}
    assert types["User"]["endpoint"] == "/Users"
    assert types["User"]["schemaExtensions"][0]["schema"].endswith("enterprise:2.0:User")
    assert types["Group"]["endpoint"] == "/Groups"
    schema_ids = {s["id"] for s in scim.get("/Schemas").json()["Resources"]}
    assert "urn:ietf:params:scim:schemas:core:2.0:User" in schema_ids
    assert scim.get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group").json()["name"] == "Group"
    assert_scim_error(scim.get("/Schemas/urn:nope"), 404)
    assert_scim_error(scim.get("/ResourceTypes/Nope"), 404)
    assert_scim_error(scim.get("/Whatever/else"), 404)


def test_discovery_needs_a_token_too(client):
    assert_scim_error(client.get("/scim/v2/ServiceProviderConfig"), 401)


def test_root_search_spans_users_and_groups(scim):
    user = scim.post("/Users", user_body("pat@acme.test")).json()
    scim.post(
        "/Groups",
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Eng",
            "members": [{"value": user["id"]}],
        },
    )
    body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "externalId pr or id pr"}
    everything = scim.post("/.search", body).json()
    assert everything["totalResults"] == 2
    only_users = scim.post("/.search", {**body, "filter": 'userName eq "pat@acme.test"'}).json()
    assert [r["userName"] for r in only_users["Resources"]] == ["pat@acme.test"]
    assert_scim_error(scim.post("/.search", {**body, "filter": 'title eq "x"'}), 400, "invalidFilter")


def test_an_organisation_not_entitled_cannot_use_its_token(client, acme_token, acme_admin, acme):
    from jeto_identity.orgadmin import plans

    assert Scim(client, acme_token.secret).get("/Users").status_code == 200
    plans.set_feature(acme, plans.SCIM, False)  # a platform admin takes SCIM out of Acme's plan
    for _ in range(3):  # refused at once, and never counted as a guessed token
        assert_scim_error(Scim(client, acme_token.secret).get("/Users"), 403)
    acme_token.token.refresh_from_db()
    assert acme_token.token.revoked_at is None  # nothing revoked or deleted
    plans.set_feature(acme, plans.SCIM, True)
    assert Scim(client, acme_token.secret).get("/Users").status_code == 200
    plans.set_feature(acme, plans.SCIM, False)
    admin = Client()
    admin.force_login(acme_admin)
    response = admin.post("/admin/jeto_identity/scimtoken/add/", {"name": "Okta", "organization": acme.pk})
    assert response.status_code == 200 and b"does not include SCIM" in response.content


@pytest.mark.parametrize("value", [-1, "100", 1.5, True])
def test_e601_a_bad_rate_limit(settings, value):
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "SCIM_REQUESTS_PER_MINUTE": value}
    assert [m.id for m in scim_checks.check_scim_settings()] == ["jeto_identity.E601"]


def test_e601_quiet_by_default():
    assert scim_checks.check_scim_settings() == []


def test_w601_local_memory_cache_in_production(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    found = scim_checks.check_scim_rate_limit_shared()
    assert [m.id for m in found] == ["jeto_identity.W601"] and isinstance(found[0], checks.Warning)
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://x"}}
    assert scim_checks.check_scim_rate_limit_shared() == []
