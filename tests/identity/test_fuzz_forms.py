"""Property-based fuzzing of the sign-in and password-reset forms: no 500, and malformed input never succeeds."""

import pytest
from django.core.cache import cache
from django.test import Client, RequestFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jeto_identity.audit import services as audit
from jeto_identity.core.net import client_ip
from jeto_identity.login.forms import EmailStepForm, JetoPasswordResetForm

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Text with control characters, NULs, surrogates-free unicode, very long runs, and email-ish shapes.
nasty_text = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x1F), max_size=50),
    st.builds(lambda a, b: f"{a}@{b}", st.text(max_size=80), st.text(max_size=80)),
    st.just("a" * 5000 + "@example.test"),
    st.sampled_from(["", " ", "\x00", "max@acme.test\x00", "max@acme.test\r\nBcc: x@y", "' OR 1=1 --", "<script>"]),
)
form_value = st.one_of(nasty_text, st.lists(st.text(max_size=20), max_size=3))


def _post(client, path, data):
    # Django's test client posts multipart; lists become repeated fields.
    return client.post(path, data)


def _valid(form_class, path, data) -> bool:
    """Whether the page's form accepts what the test client posts: the one thing that decides 302 or 400."""
    return form_class(RequestFactory().post(path, data).POST).is_valid()


@FUZZ
@given(email=form_value, extra=st.dictionaries(st.text(max_size=10), st.text(max_size=10), max_size=3))
def test_email_step(email, extra):
    client = Client(raise_request_exception=False)
    data = {**extra, "email": email}
    response = _post(client, "/login/", data)
    assert response.status_code == (302 if _valid(EmailStepForm, "/login/", data) else 400), response.status_code
    if response.status_code == 302:
        # Only a syntactically valid address moves on, and it says nothing about whether the account exists.
        assert response["Location"] == "/login/password/"
        assert "@" in client.session["jeto_login"]["email"]


@FUZZ
@given(password=form_value)
def test_password_step(password, acme_member):
    cache.clear()
    client = Client(raise_request_exception=False)
    client.post("/login/", {"email": acme_member.email})
    response = _post(client, "/login/password/", {"password": password})
    assert response.status_code == 400, response.status_code  # one wrong guess on fresh counters: never throttled
    assert "_auth_user_id" not in client.session


@FUZZ
@given(password=form_value)
def test_password_step_without_an_email_first(password):
    client = Client(raise_request_exception=False)
    response = _post(client, "/login/password/", {"password": password})
    assert response.status_code == 302 and response["Location"] == "/login/"


@FUZZ
@given(email=form_value)
def test_password_reset_request(email):
    client = Client(raise_request_exception=False)
    data = {"email": email}
    response = _post(client, "/password-reset/", data)
    expected = 302 if _valid(JetoPasswordResetForm, "/password-reset/", data) else 400
    assert response.status_code == expected, response.status_code


@FUZZ
@given(
    uid=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=", min_size=1, max_size=40),
    token=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=60),
    p1=form_value,
    p2=form_value,
)
def test_password_reset_confirm_with_forged_links(uid, token, p1, p2, acme_member):
    client = Client(raise_request_exception=False)
    url = f"/password-reset/{uid}/{token}/"
    assert client.get(url).status_code == 200  # the "link is invalid" page
    response = client.post(url, {"new_password1": p1, "new_password2": p2})
    assert response.status_code == 200  # the same page: a forged link never reaches the form
    acme_member.refresh_from_db()
    assert acme_member.check_password("a-long-enough-test-passphrase")


@settings(max_examples=300, deadline=None)
@given(remote=st.one_of(st.ip_addresses().map(str), st.text(max_size=40)), xff=st.text(max_size=200))
def test_client_ip_never_raises_and_ignores_untrusted_headers(remote, xff):
    from django.test import RequestFactory

    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=xff)
    assert client_ip(request) == remote  # no trusted proxies configured: the header is never believed


@settings(max_examples=200, deadline=None)
@given(
    details=st.dictionaries(
        st.sampled_from(sorted(audit.SAFE_DETAIL_KEYS) + ["password", "client_secret", "x"]),
        st.recursive(
            st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20)),
            lambda inner: st.one_of(
                st.lists(inner, max_size=3),
                st.dictionaries(st.sampled_from(["token", "scope", "otp_code", "name"]), inner, max_size=3),
            ),
            max_leaves=10,
        ),
        max_size=6,
    )
)
def test_audit_details_are_json_and_scrubbed(details):
    import json

    text = json.dumps(audit.safe_details(details))
    for secret_key in ('"password"', '"client_secret"', '"token"', '"otp_code"'):
        assert secret_key + ":" not in text.replace('": ', '":')
