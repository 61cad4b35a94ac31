"""SCIM Users: create, read, list with filters and pages, replace, PATCH, delete, and RFC 7644 errors."""

from __future__ import annotations

import pytest

from jeto_identity.models import AuditEvent, Membership, Role, User
from jeto_identity.provisioning.models import ScimUser
from tests.scim_support import USER_SCHEMA, assert_scim_error, patch_body, user_body

pytestmark = pytest.mark.django_db


def test_create_makes_an_account_and_a_membership(scim, acme):
    response = scim.post("/Users", user_body("Pat@ACME.test", externalId="okta-1"))
    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Content-Type"].startswith("application/scim+json")
    assert body["userName"] == "pat@acme.test"
    assert body["externalId"] == "okta-1"
    assert body["active"] is True
    assert body["meta"]["resourceType"] == "User"
    assert response["Location"] == body["meta"]["location"]
    assert body["meta"]["location"].endswith(f"/scim/v2/Users/{body['id']}")
    user = User.objects.get(email="pat@acme.test")
    assert (user.first_name, user.last_name, user.is_active) == ("Pat", "Doe", True)
    assert not user.has_usable_password()
    assert Membership.objects.get(user=user).organization == acme
    assert Membership.objects.get(user=user).role == Role.MEMBER
    event = AuditEvent.objects.get(event="scim.user_created")
    assert event.details["via"] == "SCIM" and event.organization_id == acme.pk
    assert "password" not in body


def test_get_and_other_attributes_round_trip(scim):
    body = user_body("pat@acme.test", title="Engineer", phoneNumbers=[{"value": "+1 555", "type": "work"}])
    body["schemas"].append("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
    body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"] = {"department": "R&D"}
    created = scim.post("/Users", body).json()
    got = scim.get(f"/Users/{created['id']}").json()
    assert got["title"] == "Engineer"
    assert got["phoneNumbers"] == [{"value": "+1 555", "type": "work"}]
    assert got["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"] == "R&D"
    assert got["name"] == {"givenName": "Pat", "familyName": "Doe"}


def test_password_is_never_stored_or_returned(scim):
    created = scim.post("/Users", user_body("pat@acme.test", password="Hunter2-but-longer!")).json()
    record = ScimUser.objects.get(pk=created["id"])
    assert "password" not in record.attributes
    assert not record.user.has_usable_password()
    assert "password" not in scim.get(f"/Users/{created['id']}").json()


@pytest.mark.parametrize(
    "filter_,expected",
    [
        ('userName eq "pat@acme.test"', ["pat@acme.test"]),
        ('userName eq "PAT@acme.TEST"', ["pat@acme.test"]),
        ('externalId eq "ext-2"', ["sam@acme.test"]),
        ('emails.value eq "sam@acme.test"', ["sam@acme.test"]),
        ('emails[value eq "sam@acme.test"]', ["sam@acme.test"]),
        ('userName sw "pa" or externalId eq "ext-2"', ["pat@acme.test", "sam@acme.test"]),
        ("active eq true", ["pat@acme.test", "sam@acme.test"]),
        ('userName eq "nobody@acme.test"', []),
    ],
)
def test_list_filters(scim, filter_, expected):
    scim.post("/Users", user_body("pat@acme.test", externalId="ext-1"))
    scim.post("/Users", user_body("sam@acme.test", externalId="ext-2"))
    response = scim.get("/Users", filter=filter_)
    assert response.status_code == 200, response.content
    body = response.json()
    assert sorted(r["userName"] for r in body["Resources"]) == expected
    assert body["totalResults"] == len(expected)


def test_pagination(scim):
    for i in range(5):
        scim.post("/Users", user_body(f"u{i}@acme.test"))
    page = scim.get("/Users", startIndex=2, count=2).json()
    assert page["totalResults"] == 5 and page["startIndex"] == 2 and page["itemsPerPage"] == 2
    assert [r["userName"] for r in page["Resources"]] == ["u1@acme.test", "u2@acme.test"]
    empty = scim.get("/Users", count=0).json()
    assert empty["totalResults"] == 5 and empty.get("Resources", []) == []
    assert len(scim.get("/Users", count=10_000).json()["Resources"]) == 5  # capped at maxResults, never an error


def test_attributes_and_excluded_attributes(scim):
    created = scim.post("/Users", user_body("pat@acme.test")).json()
    only = scim.get(f"/Users/{created['id']}", attributes="userName").json()
    assert only["userName"] == "pat@acme.test" and "name" not in only and only["id"] == created["id"]
    without = scim.get(f"/Users/{created['id']}", excludedAttributes="name").json()
    assert "name" not in without and without["userName"] == "pat@acme.test"


@pytest.mark.parametrize(
    "filter_",
    ["userName eq", 'title eq "x"', "userName eq 12", 'meta.created gt "yesterday"', "x" * 3000],
)
def test_bad_filters_are_invalid_filter(scim, filter_):
    assert_scim_error(scim.get("/Users", filter=filter_), 400, "invalidFilter")


def test_duplicate_username_is_uniqueness(scim):
    assert scim.post("/Users", user_body("pat@acme.test")).status_code == 201
    assert_scim_error(scim.post("/Users", user_body("PAT@acme.test")), 409, "uniqueness")
    assert User.objects.filter(email="pat@acme.test").count() == 1


@pytest.mark.parametrize(
    "body,scim_type",
    [
        ("{not json", "invalidSyntax"),
        ("[]", "invalidSyntax"),
        ({"schemas": [USER_SCHEMA]}, "invalidValue"),
        ({"schemas": [USER_SCHEMA], "userName": "not-an-email"}, "invalidValue"),
        ({"schemas": [USER_SCHEMA], "userName": "pat@unverified.test"}, "invalidValue"),
        ({"schemas": [USER_SCHEMA], "userName": "pat@acme.test", "active": "maybe"}, "invalidValue"),
        ({"schemas": [USER_SCHEMA], "userName": "pat@acme.test", "emails": "x"}, "invalidValue"),
    ],
)
def test_bad_bodies_are_400_and_write_nothing(scim, body, scim_type):
    response = scim.post("/Users", body)
    assert_scim_error(response, 400, scim_type)
    assert not ScimUser.objects.exists()
    assert not User.objects.filter(email__startswith="pat@").exists()


def test_replace_updates_the_managed_account(scim):
    created = scim.post("/Users", user_body("pat@acme.test")).json()
    body = user_body("patricia@acme.test", given="Patricia", family="Smith", externalId="x-9")
    response = scim.put(f"/Users/{created['id']}", body)
    assert response.status_code == 200, response.content
    assert response.json()["userName"] == "patricia@acme.test"
    user = User.objects.get(scim_records__pk=created["id"])
    assert (user.email, user.first_name, user.last_name) == ("patricia@acme.test", "Patricia", "Smith")


def test_replace_into_another_domain_is_refused(scim, globex):
    created = scim.post("/Users", user_body("pat@acme.test")).json()
    assert_scim_error(scim.put(f"/Users/{created['id']}", user_body("pat@globex.test")), 400, "invalidValue")
    assert User.objects.filter(email="pat@acme.test").exists()


def test_rename_onto_an_existing_account_is_uniqueness(scim, acme_member):
    created = scim.post("/Users", user_body("pat@acme.test")).json()
    assert_scim_error(scim.put(f"/Users/{created['id']}", user_body(acme_member.email)), 409, "uniqueness")
    assert User.objects.filter(email="pat@acme.test").exists()


def test_patch_replace_add_remove(scim):
    created = scim.post("/Users", user_body("pat@acme.test", title="Eng")).json()
    response = scim.patch(
        f"/Users/{created['id']}",
        patch_body(
            {"op": "replace", "path": "name.givenName", "value": "Patty"},
            {"op": "add", "path": "nickName", "value": "P"},
            {"op": "remove", "path": "title"},
        ),
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"]["givenName"] == "Patty" and body["nickName"] == "P" and "title" not in body
    assert User.objects.get(email="pat@acme.test").first_name == "Patty"


@pytest.mark.parametrize(
    "operations,scim_type",
    [
        ([{"op": "explode", "path": "title", "value": "x"}], "invalidValue"),
        ([{"op": "replace", "path": 'emails[type eq "home"].value', "value": "x@acme.test"}], "noTarget"),
        ([{"op": "replace", "path": "id", "value": "x"}], "mutability"),
        ([{"op": "replace", "path": "active", "value": "sometimes"}], "invalidValue"),
    ],
)
def test_bad_patches_are_400_and_change_nothing(scim, operations, scim_type):
    created = scim.post("/Users", user_body("pat@acme.test")).json()
    response = scim.patch(f"/Users/{created['id']}", patch_body(*operations))
    body = assert_scim_error(response, 400)
    assert body.get("scimType") in {scim_type, "invalidValue", "invalidPath", "invalidSyntax", "mutability", "noTarget"}
    assert ScimUser.objects.get(pk=created["id"]).version == 1


def test_unknown_and_malformed_ids_are_404(scim):
    for path in ("/Users/00000000-0000-0000-0000-000000000000", "/Users/not-a-uuid", "/Groups/nope"):
        assert_scim_error(scim.get(path), 404)
        assert_scim_error(scim.delete(path), 404)
        assert_scim_error(scim.patch(path, patch_body({"op": "replace", "path": "active", "value": False})), 404)


def test_delete_disables_the_managed_account_and_removes_the_membership(scim, acme):
    created = scim.post("/Users", user_body("pat@acme.test")).json()
    response = scim.delete(f"/Users/{created['id']}")
    assert response.status_code == 204
    user = User.objects.get(email="pat@acme.test")
    assert not user.is_active
    assert not Membership.objects.filter(user=user).exists()
    assert_scim_error(scim.get(f"/Users/{created['id']}"), 404)
    assert AuditEvent.objects.filter(event="scim.user_deleted", subject_id=user.pk).exists()
    # Provisioned again later: the same account comes back, active.
    again = scim.post("/Users", user_body("pat@acme.test"))
    assert again.status_code == 201, again.content
    user.refresh_from_db()
    assert user.is_active and Membership.objects.filter(user=user, organization=acme).exists()


def test_methods_and_bulk(scim):
    assert_scim_error(scim.put("/Users", {}), 405)
    assert_scim_error(scim.post("/Bulk", {}), 501)
