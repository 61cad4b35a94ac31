"""Okta and Entra ID as they really talk: their request shapes replayed through scim2-client (a client we did not
write; it sends the payloads unchanged, and every answer is validated against the SCIM schemas by scim2-models).
Shapes from Okta's "SCIM 2.0 protocol reference" and Microsoft's "Build a SCIM endpoint" request examples."""

from __future__ import annotations

import pytest
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from scim2_client.engines.wsgi import WSGISCIMClient
from scim2_models import Context, EnterpriseUser, Group, User

from jeto_identity.models import Membership
from jeto_identity.models import User as Account
from jeto_identity.provisioning.models import ScimGroup
from tests.scim_support import GROUP_SCHEMA, PATCH_SCHEMA, USER_SCHEMA

pytestmark = pytest.mark.django_db
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
UserResource = User[EnterpriseUser]
CONTEXTS = {
    "create": Context.RESOURCE_CREATION_RESPONSE,
    "modify": Context.RESOURCE_PATCH_RESPONSE,
    "replace": Context.RESOURCE_REPLACEMENT_RESPONSE,
}


@pytest.fixture
def idp(acme_token):
    # The WSGI application runs inside the test's transaction: like Django's test client, keep the request
    # signals from closing the connection under it.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    client = WSGISCIMClient(
        get_wsgi_application(),
        base_url="http://testserver/scim/v2",
        headers={"Authorization": f"Bearer {acme_token.secret}"},
    )
    client.discover()
    yield client
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def send(client, method: str, model, payload: dict, id: str | None = None):
    """Send ``payload`` exactly as the IdP does, then validate the answer as a ``model`` response."""
    url = ("/Groups" if model is Group else "/Users") + (f"/{id}" if id else "")
    if method == "modify":
        answer = client.modify(model, id, patch_op=payload, url=url, check_request_payload=False)
    else:
        answer = getattr(client, method)(url=url, resource=payload, check_request_payload=False)
    if not isinstance(answer, dict):  # scim2-client already validated it against the discovered schema
        answer = answer.model_dump(scim_ctx=CONTEXTS[method])
    return model.model_validate(answer, scim_ctx=CONTEXTS[method])


def patch(*operations: dict) -> dict:
    return {"schemas": [PATCH_SCHEMA], "Operations": list(operations)}


def find(client, model, **params):
    return client.query(model, query_parameters=params)


def test_okta_lifecycle(idp, acme):
    # Okta looks the person up first, then creates them (password sync off; it sends "groups": []).
    assert find(idp, UserResource, filter='userName eq "jo@acme.test"', startIndex=1, count=100).total_results == 0
    okta_user = {
        "schemas": [USER_SCHEMA],
        "userName": "jo@acme.test",
        "name": {"givenName": "Jo", "familyName": "Okta"},
        "emails": [{"primary": True, "value": "jo@acme.test", "type": "work"}],
        "displayName": "Jo Okta",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [],
        "active": True,
    }
    created = send(idp, "create", UserResource, okta_user)
    assert created.user_name == "jo@acme.test" and created.id
    account = Account.objects.get(email="jo@acme.test")
    assert Membership.objects.filter(user=account, organization=acme).exists()
    assert idp.query(UserResource, created.id).external_id == "00ujl29u0le5T6Aj10h7"

    # Profile push: Okta PUTs the whole user, id included.
    changed = {**okta_user, "id": created.id, "name": {"givenName": "Joanna", "familyName": "Okta"}}
    replaced = send(idp, "replace", UserResource, changed, id=created.id)
    assert replaced.name.given_name == "Joanna"
    account.refresh_from_db()
    assert account.first_name == "Joanna"

    # Deactivation and reactivation: Okta's PATCH without a path.
    off = send(idp, "modify", UserResource, patch({"op": "replace", "value": {"active": False}}), id=created.id)
    assert off.active is False
    account.refresh_from_db()
    assert not account.is_active
    on = send(idp, "modify", UserResource, patch({"op": "replace", "value": {"active": True}}), id=created.id)
    assert on.active is True
    account.refresh_from_db()
    assert account.is_active

    # A retried POST (Okta's timeout retry) is a 409 uniqueness, and the lookup finds the one user.
    retry = idp.create(url="/Users", resource=okta_user, check_request_payload=False, raise_scim_errors=False)
    assert str(retry.status) == "409" and retry.scim_type == "uniqueness"
    assert find(idp, UserResource, filter='userName eq "jo@acme.test"').total_results == 1


def test_okta_group_push(idp):
    user = send(idp, "create", UserResource, {"schemas": [USER_SCHEMA], "userName": "gp@acme.test", "active": True})
    other = send(idp, "create", UserResource, {"schemas": [USER_SCHEMA], "userName": "gq@acme.test", "active": True})
    assert find(idp, Group, filter='displayName eq "Engineering"').total_results == 0
    group = send(idp, "create", Group, {"schemas": [GROUP_SCHEMA], "displayName": "Engineering", "members": []})
    add = {
        "op": "add",
        "path": "members",
        "value": [{"value": user.id, "display": "gp@acme.test"}, {"value": other.id, "display": "gq@acme.test"}],
    }
    send(idp, "modify", Group, patch(add), id=group.id)
    members = {m.user_name for m in ScimGroup.objects.get(pk=group.id).members.all()}
    assert members == {"gp@acme.test", "gq@acme.test"}
    send(idp, "modify", Group, patch({"op": "remove", "path": f'members[value eq "{other.id}"]'}), id=group.id)
    rename = {"op": "replace", "value": {"id": group.id, "displayName": "Engineering EU"}}
    renamed = send(idp, "modify", Group, patch(rename), id=group.id)
    assert renamed.display_name == "Engineering EU"
    assert [m.value for m in renamed.members] == [user.id]
    assert [g.display for g in idp.query(UserResource, user.id).groups] == ["Engineering EU"]
    idp.delete(Group, group.id)
    assert not ScimGroup.objects.exists()


def test_entra_id_lifecycle(idp, acme):
    # Entra's "Test connection" probe: a filter on a random userName answers 200 with nothing.
    assert find(idp, UserResource, filter='userName eq "7d3c1a8b-2f8e-4a7e-9e9e-2b1d8f0c4e11"').total_results == 0
    created = send(
        idp,
        "create",
        UserResource,
        {
            "schemas": [USER_SCHEMA, ENTERPRISE],
            "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
            "userName": "Test_User_ab6490ee@acme.test",
            "active": True,
            "displayName": "Test User",
            "emails": [{"primary": True, "type": "work", "value": "Test_User_ab6490ee@acme.test"}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": "Test User", "familyName": "User", "givenName": "Test"},
            "roles": [],
            ENTERPRISE: {"department": "Sales", "employeeNumber": "42"},
        },
    )
    assert created.user_name == "test_user_ab6490ee@acme.test"
    assert find(idp, UserResource, filter='externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"').total_results == 1
    assert find(idp, UserResource, filter='userName eq "TEST_USER_AB6490EE@acme.test"').total_results == 1

    # Attribute updates: capitalised ops, a filtered path, an extension attribute by its URN.
    updated = send(
        idp,
        "modify",
        UserResource,
        patch(
            {"op": "Replace", "path": "displayName", "value": "Tess User"},
            {"op": "Add", "path": "name.givenName", "value": "Tess"},
            {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "tess@acme.test"},
            {"op": "Add", "path": f"{ENTERPRISE}:department", "value": "Marketing"},
        ),
        id=created.id,
    )
    assert updated.display_name == "Tess User" and updated.name.given_name == "Tess"
    assert updated[EnterpriseUser].department == "Marketing"
    assert [e.value for e in updated.emails] == ["tess@acme.test"]
    assert find(idp, UserResource, filter='emails.value eq "tess@acme.test"').total_results == 1

    # A rename in Entra changes userName: the account's address follows, inside the verified domain.
    rename = patch({"op": "Replace", "path": "userName", "value": "tess@acme.test"})
    assert send(idp, "modify", UserResource, rename, id=created.id).user_name == "tess@acme.test"
    assert Account.objects.filter(email="tess@acme.test").exists()

    # Soft delete: Entra sends the string "False". Then the hard delete after its retention period.
    off = send(idp, "modify", UserResource, patch({"op": "Replace", "path": "active", "value": "False"}), id=created.id)
    assert off.active is False
    assert not Account.objects.get(email="tess@acme.test").is_active
    idp.delete(UserResource, created.id)
    assert not Membership.objects.filter(user__email="tess@acme.test", organization=acme).exists()


def test_entra_id_group_membership(idp):
    user = send(idp, "create", UserResource, {"schemas": [USER_SCHEMA], "userName": "em@acme.test", "active": True})
    group = send(
        idp,
        "create",
        Group,
        {
            "schemas": [GROUP_SCHEMA],
            "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
            "displayName": "Group1DisplayName",
            "meta": {"resourceType": "Group"},
        },
    )
    send(idp, "modify", Group, patch({"op": "Add", "path": "members", "value": [{"value": user.id}]}), id=group.id)
    assert ScimGroup.objects.get(pk=group.id).members.count() == 1
    # Entra removes a member with a value instead of a filtered path.
    remove = patch({"op": "Remove", "path": "members", "value": [{"value": user.id}]})
    send(idp, "modify", Group, remove, id=group.id)
    assert ScimGroup.objects.get(pk=group.id).members.count() == 0
    listed = find(idp, Group, filter='displayName eq "Group1DisplayName"', excludedAttributes="members")
    assert listed.total_results == 1 and not listed.resources[0].members
