"""Client-secret guessing at the token endpoint is throttled per client ID and per address."""

import base64
import logging

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jeto_identity.audit import services as audit
from jeto_identity.connections import services as clients
from jeto_identity.models import AuditEvent
from jeto_identity.throttle import services as throttle
from jeto_identity.throttle.token_view import presented_client_id

pytestmark = pytest.mark.django_db
LIMIT = 3
CLIENT_ID = SECRET = ""  # set by the api_client fixture


@pytest.fixture(autouse=True)
def small_limit(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT


@pytest.fixture
def api_client(acme):
    global CLIENT_ID, SECRET
    issued = clients.issue_client(organization=acme, name="Acme sync", scopes="org:read")
    CLIENT_ID, SECRET = issued.client_id, issued.client_secret
    return issued


def _basic(client_id, secret):
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def _token(ip, client_id, secret):
    return Client(REMOTE_ADDR=ip).post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": "org:read"},
        HTTP_AUTHORIZATION=_basic(client_id, secret),
    )


def test_right_secret_gets_a_token(api_client):
    response = _token("10.1.0.1", CLIENT_ID, SECRET)
    assert response.status_code == 200 and response.json()["access_token"]


def test_guessing_a_secret_locks_the_client_id_on_every_address(api_client):
    statuses = [_token("10.1.0.2", CLIENT_ID, f"guess-{i}").status_code for i in range(LIMIT)]
    assert statuses == [401] * (LIMIT - 1) + [429]  # the guess that reaches the limit is already refused
    locked = _token("10.1.0.3", CLIENT_ID, SECRET)
    assert locked.status_code == 429 and locked.json()["error"] == "too_many_requests"
    event = AuditEvent.objects.get(event=audit.THROTTLED, subject=f"client:{CLIENT_ID.lower()}")
    assert event.organization == "Acme"  # the client's organisation sees it


def test_a_throttled_token_request_logs_one_line_and_no_traceback(api_client, caplog):
    for i in range(LIMIT):
        _token("10.1.0.4", CLIENT_ID, f"guess-{i}")
    caplog.clear()
    with caplog.at_level(logging.INFO):
        locked = _token("10.1.0.5", CLIENT_ID, "the-real-secret-guess")
    assert locked.status_code == 429 and locked["Retry-After"]
    assert not [r for r in caplog.records if r.exc_info or r.exc_text]
    assert not [r for r in caplog.records if r.name == "django.request" and "Throttled" in r.getMessage()]
    ours = [r for r in caplog.records if r.name.startswith("jeto_identity.throttle")]
    assert len(ours) == 1, [r.getMessage() for r in ours]
    line = ours[0].getMessage()
    assert line.startswith("throttle.refused scope=client ") and "ip=10.1.0.5" in line
    assert f"key={throttle.key_digest(CLIENT_ID)}" in line
    assert CLIENT_ID not in line and "the-real-secret-guess" not in line and "\n" not in line


def test_unknown_client_ids_lock_out_the_same_way(api_client):
    known = [_token("10.1.1.1", CLIENT_ID, "x").status_code for _ in range(LIMIT + 1)]
    unknown = [_token("10.1.1.2", "no-such-client", "x").status_code for _ in range(LIMIT + 1)]
    assert known == unknown == [401] * (LIMIT - 1) + [429, 429]


def test_spraying_many_client_ids_from_one_address_is_locked(api_client):
    for i in range(LIMIT):
        _token("10.1.2.1", f"client-{i}", "x")
    assert _token("10.1.2.1", CLIENT_ID, SECRET).status_code == 429
    assert _token("10.1.2.2", CLIENT_ID, SECRET).status_code == 200


def test_client_id_extraction():
    from django.test import RequestFactory

    rf = RequestFactory()
    assert presented_client_id(rf.post("/", HTTP_AUTHORIZATION=_basic("a%20b", "s"))) == "a b"
    assert presented_client_id(rf.post("/", HTTP_AUTHORIZATION="Basic !!!not-base64")) == ""
    assert presented_client_id(rf.post("/", {"client_id": "x" * 500})) == "x" * 100


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.dictionaries(
        st.sampled_from(["grant_type", "client_id", "client_secret", "scope", "code", "device_code", "x"]),
        st.one_of(
            st.text(max_size=100),
            st.sampled_from(
                [
                    "client_credentials",
                    "authorization_code",
                    "refresh_token",
                    "password",
                    "urn:ietf:params:oauth:grant-type:device_code",
                ]
            ),
        ),
        max_size=6,
    ),
    auth=st.one_of(st.none(), st.text(max_size=80), st.builds(_basic, st.text(max_size=30), st.text(max_size=30))),
)
def test_token_endpoint_fuzz_never_500_never_2xx_for_garbage(data, auth, api_client):
    from django.core.cache import cache

    cache.clear()
    headers = {"HTTP_AUTHORIZATION": auth} if auth is not None else {}
    response = Client(raise_request_exception=False).post("/o/token/", data, **headers)
    assert response.status_code < 500, (data, auth, response.content)
    assert response.status_code != 200 or (auth and SECRET in base64.b64decode(auth[6:]).decode(errors="ignore"))


def test_device_code_grant_without_a_code_is_a_400_not_a_500(api_client):
    response = Client(raise_request_exception=False).post(
        "/o/token/", {"grant_type": "urn:ietf:params:oauth:grant-type:device_code"}
    )
    assert response.status_code == 400 and response.json()["error"] == "unsupported_grant_type"


@pytest.mark.parametrize(
    "data",
    [
        {"grant_type": "client_credentials", "client_id": "a\x00b", "client_secret": "x"},
        {"grant_type": "authorization_code", "code": "c\x00", "client_id": "any", "client_secret": "x"},
    ],
)
def test_nul_in_a_parameter_is_a_400_not_a_500(api_client, data):
    response = Client(raise_request_exception=False).post("/o/token/", data)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
