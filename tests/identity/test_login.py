from unittest import mock

import pytest
from django.contrib.auth.hashers import make_password
from django.urls import reverse

from jeto_identity.core.hashers import OwaspArgon2PasswordHasher
from jeto_identity.models import User
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


def test_member_signs_in_through_email_then_password(client, acme_member, password):
    response = sign_in(client, "MAX@Acme.test", password)
    assert response.status_code == 302
    assert response.url == "/account/"
    page = client.get(reverse("jeto_identity:account"))
    assert page.status_code == 200
    assert b"max@acme.test" in page.content


def test_account_page_needs_sign_in(client):
    response = client.get("/account/")
    assert response.status_code == 302
    assert response.url.startswith("/login/?next=/account/")


def test_wrong_password_gets_generic_message(client, acme_member):
    response = sign_in(client, "max@acme.test", "wrong-password-here")
    assert response.status_code == 400
    assert b"That email and password don&#x27;t match" in response.content
    assert "_auth_user_id" not in client.session


def test_unknown_email_gets_the_same_pages_and_message(client, acme_member):
    known_step1 = client.post("/login/", {"email": "max@acme.test"})
    known = client.post("/login/password/", {"password": "wrong-password-here"})
    other = type(client)()
    unknown_step1 = other.post("/login/", {"email": "nobody@acme.test"})
    unknown = other.post("/login/password/", {"password": "wrong-password-here"})
    assert known_step1.status_code == unknown_step1.status_code == 302
    assert known_step1.url == unknown_step1.url == "/login/password/"
    assert known.status_code == unknown.status_code == 400
    strip = lambda r, email: r.content.decode().replace(email, "EMAIL")  # noqa: E731
    import re

    token = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert token.sub("", strip(known, "max@acme.test")) == token.sub("", strip(unknown, "nobody@acme.test"))


def test_unknown_email_still_runs_the_password_hasher(client):
    """Comparable timing: the slow hash runs whether or not the account exists."""
    with mock.patch.object(
        OwaspArgon2PasswordHasher, "encode", autospec=True, side_effect=lambda *a: "argon2$x"
    ) as enc:
        sign_in(client, "nobody@nowhere.test", "some-password-value")
    assert enc.call_count == 1


def test_inactive_user_cannot_sign_in(client, make_user, password):
    make_user("gone@acme.test", is_active=False)
    assert sign_in(client, "gone@acme.test", password).status_code == 400


def test_password_step_without_email_goes_back_to_step_one(client):
    assert client.get("/login/password/").url == "/login/"
    assert client.post("/login/password/", {"password": "x"}).url == "/login/"


def test_malformed_email_is_a_400_with_message(client):
    response = client.post("/login/", {"email": "not-an-email"})
    assert response.status_code == 400
    assert b"Enter a valid email address" in response.content


def test_oversized_password_is_refused_not_hashed(client, acme_member):
    client.post("/login/", {"email": "max@acme.test"})
    response = client.post("/login/password/", {"password": "x" * 5000})
    assert response.status_code == 400


def test_session_key_rotates_at_sign_in(client, acme_member, password):
    client.get("/login/")
    client.post("/login/", {"email": "max@acme.test"})
    before = client.session.session_key
    client.post("/login/password/", {"password": password})
    assert client.session.session_key != before
    assert client.session["jeto_amr"] == ["pwd"]
    assert isinstance(client.session["jeto_auth_time"], int)


@pytest.mark.parametrize(
    "bad_next", ["//evil.example", "/\\evil.example", "https:evil.example", "https://evil.example"]
)
def test_next_never_leaves_the_site(client, acme_member, password, bad_next):
    response = sign_in(client, "max@acme.test", password, next_url=bad_next)
    assert response.url == "/account/"


def test_next_local_path_is_followed(client, acme_member, password):
    response = sign_in(client, "max@acme.test", password, next_url="/account/password/")
    assert response.url == "/account/password/"


def test_login_hint_prefills_email(client):
    response = client.get("/login/?login_hint=ann@acme.test")
    assert b'value="ann@acme.test"' in response.content


def test_logout_is_post_only_and_ends_session(client, acme_member, password):
    sign_in(client, "max@acme.test", password)
    assert client.get("/logout/").status_code == 200  # a confirmation page, not a logout
    assert "_auth_user_id" in client.session
    client.post("/logout/")
    assert "_auth_user_id" not in client.session


def test_new_passwords_use_argon2id_with_owasp_parameters(make_user):
    user = make_user("h@acme.test")
    assert user.password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")


def test_older_hashes_are_upgraded_at_login(client, make_user, password):
    user = make_user("old@acme.test")
    User.objects.filter(pk=user.pk).update(password=make_password(password, hasher="pbkdf2_sha256"))
    assert sign_in(client, "old@acme.test", password).status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")


def test_password_change_requires_old_password_and_policy(client, acme_member, password):
    sign_in(client, "max@acme.test", password)
    bad = client.post(
        "/account/password/",
        {"old_password": "wrong-old-password", "new_password1": "short", "new_password2": "short"},
    )
    assert bad.status_code == 400 and b"error" in bad.content
    new = "a brand new long passphrase"
    ok = client.post("/account/password/", {"old_password": password, "new_password1": new, "new_password2": new})
    assert ok.status_code == 302
    acme_member.refresh_from_db()
    assert acme_member.check_password(new)
    assert client.get("/account/").status_code == 200  # still signed in after the change
