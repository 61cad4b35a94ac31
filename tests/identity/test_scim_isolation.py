"""Tenant isolation of SCIM, from an insider's seat: an attacker holds Acme's valid SCIM token.

They must never reach, create, modify, sign out or even confirm the existence of anything outside Acme's reach
(docs/security.md, "SCIM provisioning").
"""

from __future__ import annotations

import pytest
from django.test import Client

from jeto_identity.models import AuditEvent, Membership, Role, User
from jeto_identity.provisioning import tokens
from jeto_identity.provisioning.models import ScimGroup, ScimUser
from tests.conftest import sign_in
from tests.scim_support import Scim, assert_scim_error, patch_body, user_body

pytestmark = pytest.mark.django_db

DEACTIVATE = patch_body({"op": "Replace", "path": "active", "value": "False"})


def _snapshot(user: User) -> tuple:
    user.refresh_from_db()
    return (user.email, user.first_name, user.last_name, user.is_active, user.is_staff, user.password)


@pytest.fixture
def globex_record(globex_scim):
    created = globex_scim.post("/Users", user_body("gil@globex.test", externalId="g-1"))
    assert created.status_code == 201, created.content
    return created.json()


@pytest.fixture
def globex_group(globex_scim, globex_record):
    created = globex_scim.post(
        "/Groups",
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Globex staff",
            "members": [{"value": globex_record["id"]}],
        },
    )
    assert created.status_code == 201, created.content
    return created.json()


def test_another_organisations_users_and_groups_are_invisible(scim, globex_record, globex_group):
    assert scim.get("/Users").json()["totalResults"] == 0
    for filter_ in ('userName eq "gil@globex.test"', 'externalId eq "g-1"', f'id eq "{globex_record["id"]}"'):
        assert scim.get("/Users", filter=filter_).json()["totalResults"] == 0
    assert scim.get("/Groups").json()["totalResults"] == 0
    assert scim.get("/Groups", filter=f'members[value eq "{globex_record["id"]}"]').json()["totalResults"] == 0
    search = scim.post(
        "/Users/.search",
        {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": 'userName eq "gil@globex.test"'},
    )
    assert search.status_code == 200 and search.json()["totalResults"] == 0


def test_every_verb_on_a_foreign_id_is_404_and_changes_nothing(scim, globex_record, globex_group):
    gil = User.objects.get(email="gil@globex.test")
    before = _snapshot(gil)
    uid, gid = globex_record["id"], globex_group["id"]
    for response in (
        scim.get(f"/Users/{uid}"),
        scim.put(f"/Users/{uid}", user_body("gil@acme.test")),
        scim.patch(f"/Users/{uid}", DEACTIVATE),
        scim.delete(f"/Users/{uid}"),
        scim.get(f"/Groups/{gid}"),
        scim.put(f"/Groups/{gid}", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "x"}),
        scim.patch(f"/Groups/{gid}", patch_body({"op": "remove", "path": "members"})),
        scim.delete(f"/Groups/{gid}"),
    ):
        assert_scim_error(response, 404)
    assert _snapshot(gil) == before
    assert ScimUser.objects.get(pk=uid).active is True
    assert (
        ScimGroup.objects.get(pk=gid).members.count() == 1
        and ScimGroup.objects.get(pk=gid).display_name == "Globex staff"
    )


def test_a_foreign_user_cannot_be_put_in_our_group(scim, globex_record):
    ours = scim.post("/Users", user_body("pat@acme.test")).json()
    body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "Eng",
        "members": [{"value": ours["id"]}, {"value": globex_record["id"]}],
    }
    error = assert_scim_error(scim.post("/Groups", body), 400, "invalidValue")
    assert "not a user of this organisation" in error["detail"]
    assert not ScimGroup.objects.exists()
    group = scim.post("/Groups", {**body, "members": [{"value": ours["id"]}]}).json()
    add = scim.patch(
        f"/Groups/{group['id']}",
        patch_body({"op": "add", "path": "members", "value": [{"value": globex_record["id"]}]}),
    )
    assert_scim_error(add, 400, "invalidValue")
    assert [m.pk for m in ScimGroup.objects.get(pk=group["id"]).members.all()] == [
        ScimUser.objects.get(pk=ours["id"]).pk
    ]


def test_no_address_in_another_organisations_domain(scim, globex_member, globex):
    before = _snapshot(globex_member)
    for email in (globex_member.email, "newcomer@globex.test", "someone@nobody-verified.test"):
        assert_scim_error(scim.post("/Users", user_body(email)), 400, "invalidValue")
    assert _snapshot(globex_member) == before
    assert not User.objects.filter(email="newcomer@globex.test").exists()
    assert list(Membership.objects.filter(user=globex_member).values_list("organization", flat=True)) == [globex.pk]


def test_the_same_answer_for_a_foreign_address_whether_or_not_it_has_an_account(scim, globex_member):
    taken = scim.post("/Users", user_body(globex_member.email)).json()
    free = scim.post("/Users", user_body("nobody-yet@globex.test")).json()
    assert taken == free


def test_an_account_of_another_organisation_in_our_domain_is_never_attached(scim, make_user, globex, acme):
    # Someone at Globex signed up with an acme.test address (or Acme's domain was verified later).
    outsider = make_user("contractor@acme.test", first_name="Con", last_name="Tractor")
    Membership.objects.create(user=outsider, organization=globex, role=Role.MEMBER)
    before = _snapshot(outsider)
    response = scim.post("/Users", user_body("contractor@acme.test", given="Hijacked", active=False))
    assert_scim_error(response, 409, "uniqueness")
    assert _snapshot(outsider) == before
    assert not Membership.objects.filter(user=outsider, organization=acme).exists()
    assert not ScimUser.objects.exists()
    assert AuditEvent.objects.filter(event="scim.refused", outcome="denied").exists()


@pytest.mark.parametrize("kind", ["staff", "superuser"])
def test_platform_staff_and_superusers_in_our_domain_are_never_attached(scim, make_user, acme, kind):
    flags = {"is_staff": True} if kind == "staff" else {"is_staff": True, "is_superuser": True}
    person = make_user("root@acme.test", **flags)
    if kind == "superuser":
        Membership.objects.create(user=person, organization=acme, role=Role.MEMBER)  # even as a member
    before = _snapshot(person)
    assert_scim_error(scim.post("/Users", user_body("root@acme.test", given="X", active=False)), 409, "uniqueness")
    assert _snapshot(person) == before


def test_a_person_in_two_organisations_is_linked_not_taken_over(scim, make_user, acme, globex, password):
    shared = make_user("sasha@acme.test", first_name="Sasha", last_name="Two")
    Membership.objects.create(user=shared, organization=acme, role=Role.MEMBER)
    Membership.objects.create(user=shared, organization=globex, role=Role.MEMBER)
    before = _snapshot(shared)
    created = scim.post("/Users", user_body("sasha@acme.test", given="Renamed", family="ByAcme"))
    assert created.status_code == 201, created.content
    assert created.json()["name"] == {"givenName": "Sasha", "familyName": "Two"}  # the account's truth
    scim_id = created.json()["id"]
    scim.put(f"/Users/{scim_id}", user_body("sasha@acme.test", given="Again"))
    scim.patch(f"/Users/{scim_id}", patch_body({"op": "replace", "path": "name.familyName", "value": "Nope"}))
    assert _snapshot(shared) == before
    assert scim.patch(f"/Users/{scim_id}", DEACTIVATE).status_code == 200
    after = _snapshot(shared)
    assert after[3] is True and after == before  # still active, unchanged: Globex's member keeps their account
    assert not Membership.objects.filter(user=shared, organization=acme).exists()
    assert Membership.objects.filter(user=shared, organization=globex).exists()
    browser = Client()
    sign_in(browser, "sasha@acme.test", password)
    assert browser.get("/account/").status_code == 200  # they can still sign in (for Globex)


def test_a_managed_account_that_joined_another_organisation_is_no_longer_ours(scim, globex):
    created = scim.post("/Users", user_body("pat@acme.test")).json()
    pat = User.objects.get(email="pat@acme.test")
    Membership.objects.create(user=pat, organization=globex, role=Role.MEMBER)  # accepted a Globex invitation
    before = _snapshot(pat)
    scim.put(f"/Users/{created['id']}", user_body("pat@acme.test", given="Changed"))
    assert scim.patch(f"/Users/{created['id']}", DEACTIVATE).status_code == 200
    assert _snapshot(pat) == before
    assert Membership.objects.filter(user=pat, organization=globex).exists()


def test_an_owner_is_never_removed_or_disabled(scim, acme_owner, acme):
    created = scim.post("/Users", user_body(acme_owner.email)).json()
    before = _snapshot(acme_owner)
    assert_scim_error(scim.patch(f"/Users/{created['id']}", DEACTIVATE), 403)
    assert_scim_error(scim.delete(f"/Users/{created['id']}"), 403)
    assert _snapshot(acme_owner) == before
    assert Membership.objects.get(user=acme_owner, organization=acme).role == Role.OWNER
    assert ScimUser.objects.get(pk=created["id"]).active is True


def test_an_admin_keeps_their_profile_and_role(scim, acme_admin, acme):
    created = scim.post("/Users", user_body(acme_admin.email, given="Evil"))
    assert created.status_code == 201
    before = _snapshot(acme_admin)
    scim.put(f"/Users/{created.json()['id']}", user_body(acme_admin.email, given="Evil", family="Twin"))
    assert _snapshot(acme_admin) == before
    assert Membership.objects.get(user=acme_admin, organization=acme).role == Role.ADMIN


def test_renaming_onto_a_foreign_account_is_refused_and_leaves_it_alone(scim, make_user, globex):
    outsider = make_user("taken@acme.test")
    Membership.objects.create(user=outsider, organization=globex, role=Role.MEMBER)
    created = scim.post("/Users", user_body("pat@acme.test")).json()
    before = _snapshot(outsider)
    assert_scim_error(scim.put(f"/Users/{created['id']}", user_body("taken@acme.test")), 409, "uniqueness")
    assert _snapshot(outsider) == before
    assert User.objects.filter(email="pat@acme.test").exists()


def test_a_token_only_reaches_its_own_organisation(client, acme_token, globex_token, globex_record):
    acme_view = Scim(client, acme_token.secret).get("/Users").json()
    globex_view = Scim(client, globex_token.secret).get("/Users").json()
    assert acme_view["totalResults"] == 0 and globex_view["totalResults"] == 1


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Bearer wrong", "Bearer jscim_nottherealtoken", "Basic dXNlcjpwYXNz", "bearer jscim_\x00"],
)
def test_no_valid_token_is_401(client, acme_token, header):
    response = client.get("/scim/v2/Users", HTTP_AUTHORIZATION=header)
    assert_scim_error(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_or_rotated_token_stops_working(client, acme_token):
    scim = Scim(client, acme_token.secret)
    assert scim.get("/Users").status_code == 200
    rotated = tokens.rotate(acme_token.token)
    assert_scim_error(scim.get("/Users"), 401)
    fresh = Scim(client, rotated.secret)
    assert fresh.get("/Users").status_code == 200
    tokens.revoke(rotated.token)
    assert_scim_error(fresh.get("/Users"), 401)


def test_guessing_tokens_is_throttled(client, acme_token, settings):
    settings.AXES_FAILURE_LIMIT = 5
    for _ in range(5):
        client.get("/scim/v2/Users", HTTP_AUTHORIZATION="Bearer jscim_guess")
    response = client.get("/scim/v2/Users", HTTP_AUTHORIZATION="Bearer jscim_guess")
    assert response.status_code == 429


def test_a_valid_token_is_rate_limited(client, acme_token, settings):
    settings.JETO_IDENTITY = {**getattr(settings, "JETO_IDENTITY", {}), "SCIM_REQUESTS_PER_MINUTE": 3}
    scim = Scim(client, acme_token.secret)
    assert [scim.get("/Users").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert_scim_error(scim.get("/Users"), 429)


def test_a_token_stores_only_a_hash(acme_token):
    acme_token.token.refresh_from_db()
    assert acme_token.secret not in acme_token.token.token_hash
    assert acme_token.secret not in repr(acme_token) and acme_token.secret not in str(acme_token)
    assert len(acme_token.secret) > 40
    event = AuditEvent.objects.get(event="scim.token_issued")
    assert acme_token.secret not in str(event.details)


def test_a_superuser_who_is_a_member_is_never_signed_out_or_removed(scim, make_user, acme):
    root = make_user("boss@acme.test", is_staff=True, is_superuser=False)
    Membership.objects.create(user=root, organization=acme, role=Role.MEMBER)
    created = scim.post("/Users", user_body("boss@acme.test")).json()  # linked while a plain staff member
    User.objects.filter(pk=root.pk).update(is_superuser=True)  # later made a platform admin
    before = _snapshot(root)
    assert_scim_error(scim.patch(f"/Users/{created['id']}", DEACTIVATE), 403)
    assert_scim_error(scim.delete(f"/Users/{created['id']}"), 403)
    assert _snapshot(root) == before
    assert Membership.objects.filter(user=root, organization=acme).exists()


def test_an_oversized_body_is_413(scim, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = scim.post("/Users", user_body("pat@acme.test", title="x" * 5000))
    assert_scim_error(response, 413)
    assert not ScimUser.objects.exists()
