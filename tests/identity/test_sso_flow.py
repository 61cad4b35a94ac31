"""The whole sign-in through our login page against a real OpenID Provider on loopback (oidc-provider-mock)."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import SESSION_KEY

from jeto_identity.conf import DEFAULTS
from jeto_identity.login import services as login_service
from jeto_identity.models import FederatedIdentity, Membership, Role, User
from tests.sso_support import make_connection, path_and_query, query, sso_sign_in, start_sso

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sso_env")]


def signed_in_user_id(client) -> str | None:
    return client.session.get(SESSION_KEY)


@pytest.fixture
def acme_sso(acme, idp):
    return make_connection(acme, idp.url)


# ---- home-realm discovery -------------------------------------------------------------------------------------


def test_email_in_sso_domain_goes_to_its_idp_whether_or_not_the_account_exists(client, acme_sso, acme_member):
    known = client.post("/login/", {"email": "max@acme.test"})
    unknown = client.post("/login/", {"email": "nobody@ACME.test"})
    assert known.status_code == unknown.status_code == 302
    assert known.url == unknown.url == f"/sso/{acme_sso.public_id}/start/"


def test_email_without_sso_gets_the_same_answer_as_an_unknown_email(client, acme_sso, globex_member):
    known = client.post("/login/", {"email": "gus@globex.test"})
    unknown = client.post("/login/", {"email": "nobody@nowhere.test"})
    assert known.status_code == unknown.status_code == 302
    assert known.url == unknown.url == "/login/password/"


def test_unverified_domain_or_disabled_connection_does_not_route(client, acme, acme_sso, idp):
    acme.domains.create(domain="acme-unverified.test", verified=False)
    assert client.post("/login/", {"email": "a@acme-unverified.test"}).url == "/login/password/"
    acme_sso.enabled = False
    acme_sso.save()
    assert client.post("/login/", {"email": "a@acme.test"}).url == "/login/password/"


def test_start_sends_state_nonce_pkce_and_login_hint_to_the_idp(client, acme_sso, idp):
    authorize_url = start_sso(client, "Newbie@Acme.test")
    params = query(authorize_url)
    assert params["client_id"] == acme_sso.client_id
    assert params["redirect_uri"] == f"http://testserver/sso/{acme_sso.public_id}/callback/"
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    assert len(params["state"]) >= 32 and len(params["nonce"]) >= 32
    assert params["login_hint"] == "newbie@acme.test"
    assert params["scope"] == "openid email profile"
    entry = client.session["oidc_states"][params["state"]]
    assert entry["connection"] == str(acme_sso.public_id)
    assert entry["code_verifier"] and entry["nonce"] == params["nonce"]


def test_start_without_an_email_step_goes_back_to_login(client, acme_sso):
    response = client.get(f"/sso/{acme_sso.public_id}/start/")
    assert response.status_code == 302 and response.url == "/login/"


def test_unknown_or_disabled_connection_is_404(client, acme_sso):
    client.post("/login/", {"email": "a@acme.test"})
    acme_sso.enabled = False
    acme_sso.save()
    assert client.get(f"/sso/{acme_sso.public_id}/start/").status_code == 404
    assert client.get("/sso/00000000-0000-0000-0000-000000000000/callback/?state=x&code=y").status_code == 404


# ---- JIT and linking ------------------------------------------------------------------------------------------


def test_first_sign_in_creates_the_user_and_membership_and_signs_in(client, acme_sso, idp):
    idp.put_user("okta-sub-1", email="Nina@acme.test", email_verified=True, given_name="Nina", family_name="New")
    response = sso_sign_in(client, idp, "nina@acme.test", "okta-sub-1", next_url="/account/?tab=1")
    assert response.status_code == 302
    assert response.url == "/account/?tab=1"
    user = User.objects.get(email="nina@acme.test")
    assert (user.first_name, user.last_name, user.email_verified) == ("Nina", "New", True)
    assert not user.has_usable_password()
    assert Membership.objects.get(user=user, organization=acme_sso.organization).role == Role.MEMBER
    identity = FederatedIdentity.objects.get(connection=acme_sso, subject="okta-sub-1")
    assert identity.user == user
    assert signed_in_user_id(client) == str(user.pk)
    assert client.session[login_service.AMR_SESSION_KEY] == ["fed"]
    assert client.get("/account/").status_code == 200


def test_second_sign_in_is_matched_on_sub_not_email(client, acme_sso, idp):
    idp.put_user("sub-stable", email="first@acme.test", email_verified=True)
    sso_sign_in(client, idp, "first@acme.test", "sub-stable")
    user = User.objects.get(email="first@acme.test")
    client.post("/logout/")
    idp.put_user("sub-stable", email="renamed@acme.test", email_verified=True)
    response = sso_sign_in(client, idp, "renamed@acme.test", "sub-stable")
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(user.pk)
    assert User.objects.filter(email__endswith="@acme.test").count() == 1
    assert FederatedIdentity.objects.get(subject="sub-stable").email == "renamed@acme.test"


def test_jit_off_and_no_account_is_refused_without_creating_anything(client, acme, idp):
    make_connection(acme, idp.url, jit_provisioning=False)
    idp.put_user("sub-nojit", email="ghost@acme.test", email_verified=True)
    response = sso_sign_in(client, idp, "ghost@acme.test", "sub-nojit")
    assert response.status_code == 403
    assert b"no account for ghost@acme.test" in response.content
    assert not User.objects.filter(email="ghost@acme.test").exists()
    assert not FederatedIdentity.objects.exists()
    assert signed_in_user_id(client) is None


def test_existing_account_is_linked_when_the_idp_verified_the_email(client, acme_sso, acme_member, idp):
    idp.put_user("sub-max", email="max@acme.test", email_verified=True)
    response = sso_sign_in(client, idp, "max@acme.test", "sub-max")
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(acme_member.pk)
    assert FederatedIdentity.objects.get(connection=acme_sso, subject="sub-max").user == acme_member


def test_existing_account_is_not_linked_when_email_verified_is_false(client, acme_sso, acme_member, idp):
    idp.put_user("sub-attacker", email="max@acme.test", email_verified=False)
    response = sso_sign_in(client, idp, "max@acme.test", "sub-attacker")
    assert response.status_code == 403
    assert b"confirmed the address is verified" in response.content
    assert signed_in_user_id(client) is None
    assert not FederatedIdentity.objects.exists()


def test_existing_account_is_not_linked_when_email_verified_is_missing(client, acme_sso, acme_member, idp):
    idp.put_user("sub-no-claim", email="max@acme.test")
    assert sso_sign_in(client, idp, "max@acme.test", "sub-no-claim").status_code == 403
    assert signed_in_user_id(client) is None


def test_new_user_with_unverified_email_is_created_unverified(client, acme_sso, idp):
    idp.put_user("sub-unv", email="fresh@acme.test", email_verified=False)
    assert sso_sign_in(client, idp, "fresh@acme.test", "sub-unv").status_code == 302
    assert User.objects.get(email="fresh@acme.test").email_verified is False


def test_an_idp_can_never_sign_in_as_someone_in_another_organisations_domain(client, acme_sso, globex_member, idp):
    idp.put_user("sub-evil", email="gus@globex.test", email_verified=True)
    response = sso_sign_in(client, idp, "someone@acme.test", "sub-evil")
    assert response.status_code == 403
    assert b"only sign in people with an email address in Acme" in response.content
    assert signed_in_user_id(client) is None
    assert not FederatedIdentity.objects.exists()
    assert not Membership.objects.filter(user=globex_member, organization=acme_sso.organization).exists()


def test_an_idp_cannot_create_accounts_outside_its_domains(client, acme_sso, idp):
    idp.put_user("sub-gmail", email="someone@gmail.test", email_verified=True)
    assert sso_sign_in(client, idp, "x@acme.test", "sub-gmail").status_code == 403
    assert not User.objects.filter(email="someone@gmail.test").exists()


def test_a_link_stops_working_when_the_users_email_leaves_the_domain(client, acme_sso, idp):
    idp.put_user("sub-mover", email="mover@acme.test", email_verified=True)
    sso_sign_in(client, idp, "mover@acme.test", "sub-mover")
    client.post("/logout/")
    User.objects.filter(email="mover@acme.test").update(email="mover@globex.test")
    assert sso_sign_in(client, idp, "mover@acme.test", "sub-mover").status_code == 403
    assert signed_in_user_id(client) is None


def test_a_platform_superuser_is_never_signed_in_through_an_org_idp(client, acme_sso, make_user, idp):
    make_user("root@acme.test", is_staff=True, is_superuser=True, email_verified=True)
    idp.put_user("sub-root", email="root@acme.test", email_verified=True)
    response = sso_sign_in(client, idp, "root@acme.test", "sub-root")
    assert response.status_code == 403
    assert signed_in_user_id(client) is None


def test_inactive_user_is_refused(client, acme_sso, acme_member, idp):
    acme_member.is_active = False
    acme_member.save()
    idp.put_user("sub-inactive", email="max@acme.test", email_verified=True)
    assert sso_sign_in(client, idp, "max@acme.test", "sub-inactive").status_code == 403
    assert signed_in_user_id(client) is None


def test_groups_claim_maps_to_a_role_and_follows_the_idp(client, acme, idp):
    make_connection(acme, idp.url, role_claim="groups", role_mapping={"jeto-admins": "admin"})
    idp.put_user("sub-boss", email="boss@acme.test", email_verified=True, groups=["everyone", "jeto-admins"])
    sso_sign_in(client, idp, "boss@acme.test", "sub-boss")
    membership = Membership.objects.get(user__email="boss@acme.test", organization=acme)
    assert membership.role == Role.ADMIN
    client.post("/logout/")
    idp.put_user("sub-boss", email="boss@acme.test", email_verified=True, groups=["everyone"])
    sso_sign_in(client, idp, "boss@acme.test", "sub-boss")
    membership.refresh_from_db()
    assert membership.role == Role.MEMBER


def _registered_connection(acme, strict_idp, secret_override=None):
    from tests.sso_support import make_connection as make

    connection = make(acme, strict_idp.url, client_id="placeholder")
    client_id, secret = strict_idp.register_client(f"http://testserver/sso/{connection.public_id}/callback/")
    connection.client_id = client_id
    connection.set_client_secret(secret_override or secret)
    connection.save()
    return connection


def test_registered_client_authenticates_with_its_secret(client, acme, strict_idp):
    """This IdP checks client_secret_basic credentials and the exact redirect URI at the token endpoint."""
    _registered_connection(acme, strict_idp)
    strict_idp.put_user("sub-strict", email="strict@acme.test", email_verified=True)
    assert sso_sign_in(client, strict_idp, "strict@acme.test", "sub-strict").status_code == 302
    assert signed_in_user_id(client) is not None


def test_wrong_client_secret_is_a_clear_error(client, acme, strict_idp):
    _registered_connection(acme, strict_idp, secret_override="not-the-secret")
    strict_idp.put_user("sub-badsecret", email="badsecret@acme.test", email_verified=True)
    response = sso_sign_in(client, strict_idp, "badsecret@acme.test", "sub-badsecret")
    assert response.status_code == 502
    assert b"didn&#x27;t complete the sign-in" in response.content
    assert signed_in_user_id(client) is None


# ---- the pipeline: SSO is a first factor, not a login -----------------------------------------------------------


def second_step(request, user, pending):
    """A host's extra sign-in stage (configured in JETO_IDENTITY["LOGIN_STAGES"] by the test below)."""
    return None if "otp" in pending.amr else "/mfa/challenge/"


def test_remaining_stages_run_before_the_session_is_signed_in(client, acme_sso, idp, settings):
    stages = [*settings.JETO_IDENTITY.get("LOGIN_STAGES", DEFAULTS["LOGIN_STAGES"]), f"{__name__}.second_step"]
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "LOGIN_STAGES": stages}
    idp.put_user("sub-staged", email="staged@acme.test", email_verified=True)
    response = sso_sign_in(client, idp, "staged@acme.test", "sub-staged")
    assert response.status_code == 302 and response.url == "/mfa/challenge/"
    assert signed_in_user_id(client) is None
    assert client.session[login_service.PENDING_KEY]["amr"] == ["fed"]


# ---- forged, replayed, misrouted callbacks ---------------------------------------------------------------------


def test_replayed_callback_is_refused(client, acme_sso, idp):
    idp.put_user("sub-replay", email="replay@acme.test", email_verified=True)
    authorize_url = start_sso(client, "replay@acme.test")
    callback = path_and_query(idp.authorize(authorize_url, "sub-replay"))
    assert client.get(callback).status_code == 302
    client.post("/logout/")
    replay = client.get(callback)
    assert replay.status_code == 400
    assert b"already used" in replay.content
    assert signed_in_user_id(client) is None


def test_callback_in_another_browser_is_refused(client, django_user_model, acme_sso, idp):
    from django.test import Client

    idp.put_user("sub-stolen", email="stolen@acme.test", email_verified=True)
    callback = path_and_query(idp.authorize(start_sso(client, "stolen@acme.test"), "sub-stolen"))
    attacker = Client()
    attacker.post("/login/", {"email": "stolen@acme.test"})
    assert attacker.get(callback).status_code == 400
    assert attacker.session.get(SESSION_KEY) is None


def test_tampered_state_is_refused_and_no_code_is_redeemed(client, acme_sso, idp):
    idp.put_user("sub-tamper", email="tamper@acme.test", email_verified=True)
    callback = idp.authorize(start_sso(client, "tamper@acme.test"), "sub-tamper")
    params = query(callback)
    forged = f"/sso/{acme_sso.public_id}/callback/?code={params['code']}&state={params['state']}x"
    assert client.get(forged).status_code == 400
    assert not User.objects.filter(email="tamper@acme.test").exists()
    # The genuine state is still usable once: the forgery didn't consume it, and the code wasn't spent.
    assert client.get(path_and_query(callback)).status_code == 302


def test_missing_state_or_code_is_refused(client, acme_sso, idp):
    start_sso(client, "a@acme.test")
    assert client.get(f"/sso/{acme_sso.public_id}/callback/").status_code == 400
    assert client.get(f"/sso/{acme_sso.public_id}/callback/?code=abc").status_code == 400


def test_callback_arriving_for_another_connection_is_refused_and_burns_the_state(client, acme_sso, globex, idp):
    globex_sso = make_connection(globex, idp.url, client_id="globex-client")
    idp.put_user("sub-mixup", email="mixup@acme.test", email_verified=True)
    callback = idp.authorize(start_sso(client, "mixup@acme.test"), "sub-mixup")
    params = query(callback)
    misrouted = f"/sso/{globex_sso.public_id}/callback/?code={params['code']}&state={params['state']}"
    assert client.get(misrouted).status_code == 400
    assert client.get(path_and_query(callback)).status_code == 400  # state burnt
    assert signed_in_user_id(client) is None
    assert not User.objects.filter(email="mixup@acme.test").exists()


def test_iss_parameter_for_another_issuer_is_refused(client, acme_sso, idp):
    idp.put_user("sub-iss", email="iss@acme.test", email_verified=True)
    callback = path_and_query(idp.authorize(start_sso(client, "iss@acme.test"), "sub-iss"))
    assert client.get(callback + "&iss=https%3A%2F%2Fevil.test").status_code == 400
    assert signed_in_user_id(client) is None


def test_expired_state_is_refused(client, acme_sso, idp, settings):
    idp.put_user("sub-slow", email="slow@acme.test", email_verified=True)
    callback = path_and_query(idp.authorize(start_sso(client, "slow@acme.test"), "sub-slow"))
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "SSO_STATE_MAX_AGE": 0}
    time.sleep(0.01)
    assert client.get(callback).status_code == 400
    assert signed_in_user_id(client) is None


def test_expired_id_token_from_the_idp_is_refused(client, acme, expired_token_idp):
    make_connection(acme, expired_token_idp.url)
    expired_token_idp.put_user("sub-exp", email="exp@acme.test", email_verified=True)
    response = sso_sign_in(client, expired_token_idp, "exp@acme.test", "sub-exp")
    assert response.status_code == 400
    assert signed_in_user_id(client) is None
    assert not User.objects.filter(email="exp@acme.test").exists()


def test_id_token_from_another_issuer_is_refused(client, acme, idp):
    """Mix-up: the discovery document sends us to a token endpoint whose tokens name another issuer."""
    from django.core.cache import cache

    from jeto_identity.sso.oidc import metadata

    connection = make_connection(acme, idp.url)
    metadata.discovery(connection)
    key = metadata._key(connection, "discovery")
    doc = cache.get(key)
    doc["token_endpoint"] = doc["token_endpoint"].replace("localhost", "127.0.0.1")
    cache.set(key, doc)
    idp.put_user("sub-mixed", email="mixed@acme.test", email_verified=True)
    response = sso_sign_in(client, idp, "mixed@acme.test", "sub-mixed")
    assert response.status_code == 400
    assert signed_in_user_id(client) is None


def test_idp_error_response_is_a_clear_page_and_burns_the_state(client, acme_sso, idp):
    authorize_url = start_sso(client, "deny@acme.test")
    # This IdP leaves state out of its error redirect; most echo it back, and then it is burnt.
    callback = path_and_query(idp.deny(authorize_url)) + "&state=" + query(authorize_url)["state"]
    response = client.get(callback)
    assert response.status_code == 400
    assert b"Sign-in was cancelled" in response.content
    assert client.session["oidc_states"] == {}


# ---- an IdP that is down ---------------------------------------------------------------------------------------


def test_unreachable_idp_gives_a_clear_error_page_quickly(client, acme, closed_port):
    make_connection(acme, f"http://127.0.0.1:{closed_port}")
    client.post("/login/", {"email": "max@acme.test"})
    started = time.monotonic()
    response = client.get(client.post("/login/", {"email": "max@acme.test"}).url)
    assert time.monotonic() - started < 3
    assert response.status_code == 502
    assert b"isn&#x27;t responding" in response.content


def test_hanging_idp_times_out(client, acme, black_hole, settings):
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "SSO_HTTP_TIMEOUT": 1}
    make_connection(acme, f"http://127.0.0.1:{black_hole}")
    started = time.monotonic()
    response = client.get(client.post("/login/", {"email": "max@acme.test"}).url)
    assert 0.9 < time.monotonic() - started < 3
    assert response.status_code == 502


def test_idp_going_down_before_the_callback_gives_an_error_page(client, acme):
    import oidc_provider_mock

    from tests.sso_support import IdP

    with oidc_provider_mock.run_server_in_thread(require_nonce=True) as server:
        short_lived = IdP(server)
        make_connection(acme, short_lived.url)
        short_lived.put_user("sub-down", email="down@acme.test", email_verified=True)
        callback = path_and_query(short_lived.authorize(start_sso(client, "down@acme.test"), "sub-down"))
    started = time.monotonic()
    response = client.get(callback)
    assert time.monotonic() - started < 3
    assert response.status_code == 502
    assert signed_in_user_id(client) is None


def test_a_secret_encrypted_with_a_retired_key_is_a_clear_error(client, acme_sso, idp, settings):
    idp.put_user("sub-key", email="key@acme.test", email_verified=True)
    callback = path_and_query(idp.authorize(start_sso(client, "key@acme.test"), "sub-key"))
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "FIELD_ENCRYPTION_KEYS": ["a-brand-new-key-0123456789"]}
    response = client.get(callback)
    assert response.status_code == 502
    assert b"misconfigured" in response.content
    assert signed_in_user_id(client) is None
