"""Helpers for the OpenID Provider tests: relying parties, PKCE pairs and a browser-less sign-in."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

from jeto_identity.services import relying_parties

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
