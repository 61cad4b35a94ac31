"""Helpers for the OpenID Provider tests: relying parties, PKCE pairs and a browser-less sign-in."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from jeto_identity.provider import relying_parties

REDIRECT_URI = "https://rp.example.test/callback"
POST_LOGOUT_URI = "https://rp.example.test/signed-out"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def register_rp(name: str = "Demo RP", *, trusted: bool = False, public: bool = False, **extra):
    return relying_parties.register(
        name=name,
        redirect_uris=extra.pop("redirect_uris", REDIRECT_URI),
        post_logout_redirect_uris=extra.pop("post_logout_redirect_uris", POST_LOGOUT_URI),
        client_type=relying_parties.PUBLIC if public else relying_parties.CONFIDENTIAL,
        trusted=trusted,
        **extra,
    )


def authorize_params(client_id: str, challenge: str, **overrides) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid profile email organizations",
        "state": "st-" + secrets.token_urlsafe(8),
        "nonce": "n-" + secrets.token_urlsafe(8),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def authorize_url(params: dict[str, str]) -> str:
    return "/o/authorize/?" + urlencode(params)


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


class _Forms(HTMLParser):
    """Collects each <form>'s attributes and <input> name/value pairs."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[dict[str, str], dict[str, str]]] = []

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append((attrs, {}))
        elif tag == "input" and self.forms and attrs.get("name"):
            self.forms[-1][1][attrs["name"]] = attrs.get("value", "")


def form_inputs(html: str) -> dict[str, str]:
    """Inputs of the page's main form (not the sign-out form in the header)."""
    parser = _Forms()
    parser.feed(html)
    forms = [inputs for attrs, inputs in parser.forms if "logout" not in attrs.get("action", "")]
    return forms[0] if forms else {}


class UserAgent:
    """A cookie-keeping HTTP client that signs in through the portal's own pages, like a person would."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = requests.Session()

    def _abs(self, url: str) -> str:
        return url if url.startswith("http") else self.base_url + url

    def get(self, url: str) -> requests.Response:
        return self.http.get(self._abs(url), allow_redirects=False, timeout=10)

    def post_form(self, url: str, data: dict[str, str]) -> requests.Response:
        token = self.http.cookies.get("csrftoken", "")
        headers = {"Referer": self._abs(url)}
        return self.http.post(
            self._abs(url),
            data={"csrfmiddlewaretoken": token, **data},
            headers=headers,
            allow_redirects=False,
            timeout=10,
        )

    def follow(self, response: requests.Response, stop_prefix: str) -> requests.Response:
        """Follow redirects on the portal until one leaves for ``stop_prefix`` (the RP) or a page renders."""
        for _ in range(10):
            location = response.headers.get("Location")
            if response.status_code not in (301, 302) or not location or location.startswith(stop_prefix):
                return response
            response = self.get(location)
        raise AssertionError("redirect loop")

    def sign_in(self, login_response: requests.Response, email: str, password: str) -> requests.Response:
        """From a redirect to /login/?next=..., complete both sign-in steps; returns the redirect to `next`."""
        login_url = login_response.headers["Location"]
        page = self.get(login_url)
        assert page.status_code == 200, page.status_code
        fields = form_inputs(page.text)
        response = self.post_form("/login/", {"email": email, "next": fields.get("next", "")})
        assert response.status_code == 302, response.text[:500]
        response = self.post_form(response.headers["Location"], {"password": password})
        assert response.status_code == 302, response.text[:500]
        return response

    def consent(self, page: requests.Response, allow: bool = True) -> requests.Response:
        fields = form_inputs(page.text)
        fields.pop("csrfmiddlewaretoken", None)
        if allow:
            fields["allow"] = "on"
        else:
            fields.pop("allow", None)
        return self.post_form(page.url, fields)


def assert_client_authentication_challenges(view, rf, client_id: str) -> None:
    """A token view answers a wrong secret with 401 invalid_client, challenging with the scheme the client used
    (RFC 6749 5.2): ``Basic`` after HTTP Basic, no challenge after ``client_secret_post``."""
    data = {"grant_type": "authorization_code", "code": "no-such-code", "redirect_uri": REDIRECT_URI}
    credentials = base64.b64encode(f"{client_id}:wrong-secret".encode()).decode()
    with_basic = rf.post("/o/token/", data, HTTP_AUTHORIZATION=f"Basic {credentials}")
    with_post = rf.post("/o/token/", {**data, "client_id": client_id, "client_secret": "wrong-secret"})
    response = view.as_view()(with_basic)
    assert response.status_code == 401 and json.loads(response.content)["error"] == "invalid_client"
    assert response["WWW-Authenticate"] == 'Basic realm="Jeto", charset="UTF-8"'
    response = view.as_view()(with_post)
    assert response.status_code == 401 and json.loads(response.content)["error"] == "invalid_client"
    assert "WWW-Authenticate" not in response
