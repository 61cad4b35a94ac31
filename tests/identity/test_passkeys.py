"""Passkeys: real WebAuthn ceremonies against a software authenticator (ES256, CBOR, "none" attestation).

Registration from the account page, the second factor at the MFA stage, passwordless sign-in, and every refusal:
wrong origin, wrong RP ID, replayed challenge, counter regression, unknown credential, another user's credential.
"""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import override_settings
from joserfc import jwt
from joserfc.jwk import KeySet

from jeto_identity.core import mail as jeto_mail
from jeto_identity.mfa import services as mfa
from jeto_identity.models import AuditEvent, Organization, WebAuthnDevice
from tests.conftest import sign_in
from tests.identity.mfa_support import enrol, sign_in_fully
from tests.identity.oidc_support import REDIRECT_URI, authorize_params, authorize_url, pkce_pair, query, register_rp
from tests.identity.webauthn_support import SoftAuthenticator, b64url, post_json

pytestmark = pytest.mark.django_db

ADD_OPTIONS = "/account/passkeys/add/options/"
ADD_FINISH = "/account/passkeys/add/finish/"
MFA_OPTIONS = "/login/mfa/passkey/options/"
MFA_FINISH = "/login/mfa/passkey/"
LOGIN_OPTIONS = "/login/passkey/options/"
LOGIN_FINISH = "/login/passkey/"


def register_passkey(client, authenticator: SoftAuthenticator, name: str = "Laptop", **create_kwargs):
    options = post_json(client, ADD_OPTIONS).json()
    return post_json(client, ADD_FINISH, {"credential": authenticator.create(options, **create_kwargs), "name": name})


def user_with_passkey(client, user, password, **authenticator_kwargs) -> SoftAuthenticator:
    """Sign in with the password, add a passkey, sign out again: the account now has a passkey."""
    authenticator = SoftAuthenticator(**authenticator_kwargs)
    sign_in(client, user.email, password)
    assert register_passkey(client, authenticator).status_code == 200
    client.post("/logout/")
    return authenticator


def passwordless(client, authenticator: SoftAuthenticator, **get_kwargs):
    options = post_json(client, LOGIN_OPTIONS).json()
    body = {"credential": authenticator.get(options, **get_kwargs), "state": options["jetoState"]}
    return post_json(client, LOGIN_FINISH, body), options, body


# --- registration -------------------------------------------------------------------------------------------


def test_register_a_passkey_from_the_account_page(client, acme_member, password):
    sign_in(client, acme_member.email, password)
    page = client.get("/account/passkeys/add/")
    assert page.status_code == 200 and b"data-passkey-register" in page.content
    options = post_json(client, ADD_OPTIONS).json()
    assert options["rp"]["id"] == "testserver"
    assert options["user"]["id"] == b64url(acme_member.pk.bytes)  # the random UUID, never the email
    assert options["authenticatorSelection"]["residentKey"] == "preferred"
    assert options["extensions"] == {"credProps": True}
    authenticator = SoftAuthenticator()
    response = post_json(client, ADD_FINISH, {"credential": authenticator.create(options), "name": " Work  laptop "})
    assert response.status_code == 200
    assert response.json()["redirect"].startswith("/account/mfa/recovery-codes/")  # first factor: codes issued
    device = WebAuthnDevice.objects.get(user=acme_member)
    assert device.name == "Work laptop" and device.confirmed and device.discoverable
    assert device.credential_id == b64url(authenticator.credential_id)
    assert mfa.recovery_codes_left(acme_member) == mfa.RECOVERY_CODE_COUNT
    assert AuditEvent.objects.filter(
        event="mfa.enrolled", subject_id=acme_member.pk, details__device="webauthn"
    ).exists()
    jeto_mail.wait_for_pending()
    added = [m for m in mail.outbox if "was added" in m.subject]
    assert len(added) == 1 and "/account/security/not-me/" in added[0].body


def test_a_second_passkey_keeps_the_recovery_codes_and_an_existing_one_is_excluded(client, acme_member, password):
    sign_in(client, acme_member.email, password)
    first = SoftAuthenticator()
    register_passkey(client, first)
    codes_before = set(mfa.StaticToken.objects.values_list("token", flat=True))
    options = post_json(client, ADD_OPTIONS).json()
    assert [c["id"] for c in options["excludeCredentials"]] == [b64url(first.credential_id)]
    second = post_json(client, ADD_FINISH, {"credential": SoftAuthenticator().create(options), "name": "Key"})
    assert second.json()["redirect"] == "/account/security/"
    assert set(mfa.StaticToken.objects.values_list("token", flat=True)) == codes_before
    assert WebAuthnDevice.objects.filter(user=acme_member).count() == 2


def test_registration_needs_a_recent_password(client, acme_member, password):
    sign_in(client, acme_member.email, password)
    session = client.session
    session["jeto_auth_time"] = 1
    session.save()
    assert client.get("/account/passkeys/add/").url.startswith("/account/confirm-password/")
    refused = post_json(client, ADD_OPTIONS)
    assert refused.status_code == 403 and "reauth" in refused.json()


@pytest.mark.parametrize(
    "tamper, reason",
    [
        ({"origin": "https://evil.example"}, "origin"),
        ({"rp_id": "evil.example"}, "rp id"),
    ],
)
def test_registration_for_another_origin_or_rp_id_is_refused(client, acme_member, password, tamper, reason):
    sign_in(client, acme_member.email, password)
    options = post_json(client, ADD_OPTIONS).json()
    response = post_json(client, ADD_FINISH, {"credential": SoftAuthenticator().create(options, **tamper)})
    assert response.status_code == 400, reason
    assert not WebAuthnDevice.objects.exists()


def test_a_registration_response_is_accepted_once(client, acme_member, password):
    sign_in(client, acme_member.email, password)
    options = post_json(client, ADD_OPTIONS).json()
    credential = SoftAuthenticator().create(options)
    assert post_json(client, ADD_FINISH, {"credential": credential}).status_code == 200
    replay = post_json(client, ADD_FINISH, {"credential": credential})
    assert replay.status_code == 400 and "expired" in replay.json()["error"]
    assert WebAuthnDevice.objects.count() == 1


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"credential": "x"}', b'{"credential": {"id": 5}}'])
def test_malformed_registration_is_a_400(client, acme_member, password, body):
    sign_in(client, acme_member.email, password)
    post_json(client, ADD_OPTIONS)
    response = client.post(ADD_FINISH, data=body, content_type="application/json")
    assert response.status_code == 400 and "error" in response.json()
    assert not WebAuthnDevice.objects.exists()


@override_settings(JETO_IDENTITY={"WEBAUTHN_RP_ID": "id.example.com", "WEBAUTHN_ORIGINS": ["https://id.example.com"]})
def test_rp_id_and_origins_come_from_settings(client, acme_member, password):
    sign_in(client, acme_member.email, password)
    options = post_json(client, ADD_OPTIONS).json()
    assert options["rp"]["id"] == "id.example.com"
    at_request_origin = SoftAuthenticator(rp_id="id.example.com").create(options)  # origin http://testserver
    assert post_json(client, ADD_FINISH, {"credential": at_request_origin}).status_code == 400
    options = post_json(client, ADD_OPTIONS).json()
    good = SoftAuthenticator(rp_id="id.example.com", origin="https://id.example.com").create(options)
    assert post_json(client, ADD_FINISH, {"credential": good}).status_code == 200


# --- second factor ------------------------------------------------------------------------------------------


def test_passkey_as_second_factor(client, acme_member, password):
    authenticator = user_with_passkey(client, acme_member, password)
    assert sign_in(client, acme_member.email, password).url == "/login/mfa/"
    page = client.get("/login/mfa/")
    assert b"data-passkey-challenge" in page.content
    assert client.get("/account/").status_code == 302  # still anonymous
    options = post_json(client, MFA_OPTIONS).json()
    assert [c["id"] for c in options["allowCredentials"]] == [b64url(authenticator.credential_id)]
    assert options["userVerification"] == "preferred"
    done = post_json(client, MFA_FINISH, {"credential": authenticator.get(options)})
    assert done.status_code == 200 and done.json()["redirect"] == "/account/"
    assert client.get("/account/").status_code == 200
    assert client.session["jeto_amr"] == ["pwd", "hwk", "mfa"]
    device = WebAuthnDevice.objects.get()
    assert device.sign_count == authenticator.sign_count and device.last_used_at is not None


def test_second_factor_options_need_a_pending_sign_in(client):
    assert post_json(client, MFA_OPTIONS).status_code == 403
    assert post_json(client, MFA_FINISH, {"credential": {}}).status_code == 403


def test_another_users_passkey_is_refused_as_second_factor(client, acme_member, globex_member, password):
    theirs = user_with_passkey(client, globex_member, password)
    user_with_passkey(client, acme_member, password)
    sign_in(client, acme_member.email, password)
    options = post_json(client, MFA_OPTIONS).json()
    response = post_json(client, MFA_FINISH, {"credential": theirs.get(options)})
    assert response.status_code == 400 and "another account" in response.json()["error"]
    assert client.get("/account/").status_code == 302
    assert AuditEvent.objects.filter(event="mfa.passkey_refused", details__reason="foreign_credential").exists()


def test_an_unknown_credential_is_refused(client, acme_member, password):
    user_with_passkey(client, acme_member, password)
    sign_in(client, acme_member.email, password)
    options = post_json(client, MFA_OPTIONS).json()
    response = post_json(client, MFA_FINISH, {"credential": SoftAuthenticator().get(options)})
    assert response.status_code == 400 and "isn't registered" in response.json()["error"]


def test_an_assertion_for_another_origin_or_rp_is_refused(client, acme_member, password):
    authenticator = user_with_passkey(client, acme_member, password)
    for tamper in ({"origin": "https://evil.example"}, {"rp_id": "evil.example"}):
        sign_in(client, acme_member.email, password)
        options = post_json(client, MFA_OPTIONS).json()
        assert post_json(client, MFA_FINISH, {"credential": authenticator.get(options, **tamper)}).status_code == 400
        assert client.get("/account/").status_code == 302


def test_a_replayed_assertion_is_refused(client, acme_member, password):
    authenticator = user_with_passkey(client, acme_member, password)
    sign_in(client, acme_member.email, password)
    options = post_json(client, MFA_OPTIONS).json()
    assertion = authenticator.get(options)
    assert post_json(client, MFA_FINISH, {"credential": assertion}).status_code == 200
    client.post("/logout/")
    sign_in(client, acme_member.email, password)
    post_json(client, MFA_OPTIONS)  # a new challenge: the old assertion signed the old one
    replay = post_json(client, MFA_FINISH, {"credential": assertion})
    assert replay.status_code == 400
    assert client.get("/account/").status_code == 302


def second_factor_with(client, user, password, authenticator, **get_kwargs):
    sign_in(client, user.email, password)
    options = post_json(client, MFA_OPTIONS).json()
    return post_json(client, MFA_FINISH, {"credential": authenticator.get(options, **get_kwargs)})


def test_a_counter_that_goes_backwards_blocks_the_passkey(client, acme_member, password):
    authenticator = user_with_passkey(client, acme_member, password)
    assert second_factor_with(client, acme_member, password, authenticator, counter=10).status_code == 200
    client.post("/logout/")
    clone = second_factor_with(client, acme_member, password, authenticator, counter=5)  # a copy, behind the key
    assert clone.status_code == 400 and "possible copy" in clone.json()["error"]
    assert WebAuthnDevice.objects.get().clone_warning
    assert AuditEvent.objects.filter(event="mfa.passkey_clone_warning", subject_id=acme_member.pk).exists()
    # Even a growing counter is refused from now on: the owner removes the passkey and adds it again.
    assert second_factor_with(client, acme_member, password, authenticator, counter=50).status_code == 400
    assert client.get("/account/").status_code == 302


def test_an_equal_counter_is_refused_too(client, acme_member, password):
    authenticator = user_with_passkey(client, acme_member, password)
    assert second_factor_with(client, acme_member, password, authenticator, counter=3).status_code == 200
    client.post("/logout/")
    assert second_factor_with(client, acme_member, password, authenticator, counter=3).status_code == 400


def test_recovery_codes_remain_the_fallback_for_a_passkey_only_account(client, acme_member, password):
    sign_in(client, acme_member.email, password)
    register_passkey(client, SoftAuthenticator())
    codes = client.session["jeto_mfa_new_codes"]["codes"]
    client.post("/logout/")
    sign_in(client, acme_member.email, password)
    done = client.post("/login/mfa/", {"code": codes[0]})
    assert done.status_code == 302 and client.get("/account/").status_code == 200


# --- passwordless ---------------------------------------------------------------------------------------------


def test_sign_in_with_a_passkey_alone(client, acme_member, password):
    authenticator = user_with_passkey(client, acme_member, password)
    client.cookies.clear()
    assert b'autocomplete="username webauthn"' in client.get("/login/").content
    response, options, _ = passwordless(client, authenticator)
    assert options["allowCredentials"] == [] and options["userVerification"] == "required"
    assert response.status_code == 200 and response.json()["redirect"] == "/account/"
    account = client.get("/account/")
    assert account.status_code == 200 and account.context["user"] == acme_member
    assert account.wsgi_request.user.is_verified()  # django-otp counts the passkey as the verifying device
    assert client.session["jeto_amr"] == ["hwk", "mfa"]
    assert AuditEvent.objects.filter(event="sign_in.success", subject_id=acme_member.pk).count() == 2


def test_passwordless_options_write_no_session(client, db):
    response = post_json(client, LOGIN_OPTIONS)
    assert response.status_code == 200 and "jetoState" in response.json()
    assert "sessionid" not in response.cookies


def test_passwordless_needs_user_verification(client, acme_member, password):
    authenticator = user_with_passkey(client, acme_member, password)
    authenticator.user_verification = False
    response, _, _ = passwordless(client, authenticator)
    assert response.status_code == 400
    assert client.get("/account/").status_code == 302


def test_a_passwordless_challenge_is_used_once(client, acme_member, password):
    authenticator = user_with_passkey(client, acme_member, password)
    response, options, body = passwordless(client, authenticator)
    assert response.status_code == 200
    client.post("/logout/")
    body["credential"] = authenticator.get(options)  # even freshly signed, the same challenge is spent
    assert post_json(client, LOGIN_FINISH, body).status_code == 400
    assert post_json(client, LOGIN_FINISH, {**body, "state": "forged"}).status_code == 400


def test_passwordless_refuses_a_deactivated_account_and_a_wrong_user_handle(
    client, acme_member, globex_member, password
):
    authenticator = user_with_passkey(client, acme_member, password)
    response, _, _ = passwordless(client, authenticator, user_handle=globex_member.pk.bytes)
    assert response.status_code == 400 and "another account" in response.json()["error"]
    acme_member.is_active = False
    acme_member.save()
    response, _, _ = passwordless(client, authenticator)
    assert response.status_code == 400
    assert client.get("/account/").status_code == 302


def test_passwordless_respects_sso_enforcement(client, acme_member, acme, password):
    authenticator = user_with_passkey(client, acme_member, password)
    Organization.objects.filter(pk=acme.pk).update(sso_enforced=True)
    response, _, _ = passwordless(client, authenticator)
    assert response.status_code == 403
    assert client.get("/account/").status_code == 302


def test_passwordless_failures_are_throttled(client, acme_member, password, settings):
    authenticator = user_with_passkey(client, acme_member, password)
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        options = post_json(client, LOGIN_OPTIONS).json()
        bad = {"credential": authenticator.get(options, origin="https://evil.example"), "state": options["jetoState"]}
        assert post_json(client, LOGIN_FINISH, bad).status_code in (400, 429)  # the last one locks out
    response, _, _ = passwordless(client, authenticator)
    assert response.status_code == 429
    assert client.get("/account/").status_code == 302


def test_passkey_sign_in_is_reflected_in_the_id_token_amr(client, acme_member, password):
    authenticator = user_with_passkey(client, acme_member, password)
    registration = register_rp("Passkey-aware RP", trusted=True)
    verifier, challenge = pkce_pair()
    first = client.get(authorize_url(authorize_params(registration.client.client_id, challenge)))
    options = post_json(client, LOGIN_OPTIONS).json()
    body = {"credential": authenticator.get(options), "state": options["jetoState"], "next": query(first.url)["next"]}
    done = post_json(client, LOGIN_FINISH, body).json()
    code = query(client.get(done["redirect"])["Location"])["code"]
    tokens = client.post(
        "/o/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
            "client_id": registration.client.client_id,
            "client_secret": registration.client_secret,
        },
    ).json()
    claims = jwt.decode(tokens["id_token"], KeySet.import_key_set(client.get("/o/jwks/").json())).claims
    assert claims["amr"] == ["hwk", "mfa"]


def test_a_synced_passkey_is_swk(client, acme_member, password):
    authenticator = user_with_passkey(client, acme_member, password, backed_up=True)
    response, _, _ = passwordless(client, authenticator)
    assert response.status_code == 200 and client.session["jeto_amr"] == ["swk", "mfa"]
    assert WebAuthnDevice.objects.get().kind == "passkey"


# --- rename and remove ----------------------------------------------------------------------------------------


def test_rename_and_remove_only_your_own_passkeys(client, acme_member, globex_member, password):
    user_with_passkey(client, globex_member, password)
    theirs = WebAuthnDevice.objects.get(user=globex_member)
    sign_in(client, acme_member.email, password)
    register_passkey(client, SoftAuthenticator(), name="Mine")
    mine = WebAuthnDevice.objects.get(user=acme_member)
    assert client.post(f"/account/passkeys/{theirs.pk}/rename/", {"name": "x"}).status_code == 404
    assert client.post(f"/account/passkeys/{theirs.pk}/remove/").status_code == 404
    assert client.post(f"/account/passkeys/{mine.pk}/rename/", {"name": "Phone"}).status_code == 302
    mine.refresh_from_db()
    assert mine.name == "Phone"
    assert client.get(f"/account/passkeys/{mine.pk}/remove/").status_code == 200
    assert client.post(f"/account/passkeys/{mine.pk}/remove/").status_code == 302
    assert list(WebAuthnDevice.objects.all()) == [theirs]
    assert not mfa.has_mfa(acme_member)
    assert AuditEvent.objects.filter(event="mfa.removed", subject_id=acme_member.pk).exists()


def test_removing_the_authenticator_app_keeps_passkeys_and_codes(client, acme_member, password):
    device, _codes = enrol(acme_member)
    sign_in_fully(client, acme_member, device, password)
    register_passkey(client, SoftAuthenticator())
    assert client.post("/account/mfa/remove/").status_code == 302
    assert mfa.has_passkey(acme_member) and not mfa.has_totp(acme_member)
    assert mfa.recovery_codes_left(acme_member) > 0


def test_the_account_page_counts_a_passkey_as_two_step_verification(client, acme_member, password):
    authenticator = user_with_passkey(client, acme_member, password)
    passwordless(client, authenticator)
    status = client.get("/account/").content.decode()
    assert "<strong>on</strong> (1 passkey)" in status and 'data-testid="recovery-codes-left">10<' in status
