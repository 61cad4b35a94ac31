"""The one accessor for Jeto Identity settings: ``settings.JETO_IDENTITY`` merged over these defaults.

Unknown keys are rejected so that a typo is a start-up error, not a silently ignored option.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

DEFAULTS: dict[str, Any] = {
    # The OpenID Provider issuer (scheme://host[:port][/path], no trailing slash). Empty: the request's own root.
    "ISSUER": "",
    # Minimum password length (NIST SP 800-63B: at least 8, 12+ recommended for us); 64+ always allowed.
    "PASSWORD_MIN_LENGTH": 12,
    # Longest password accepted; long enough for passphrases, bounded so hashing can't be abused.
    "PASSWORD_MAX_LENGTH": 256,
    # Product name shown in page titles and the authenticator app.
    "SITE_NAME": "Jeto",
    # Where a signed-in user lands when no safe `next` was given.
    "LOGIN_REDIRECT_URL": "/account/",
    # Secrets for keys at rest, per purpose, newest first (docs/key-rotation.md): "totp", "idp_secret",
    # "client_secret_pepper", "recovery_code". The first writes, all read; "SECRET_KEY" in a list (or no list) stands
    # for SECRET_KEY then SECRET_KEY_FALLBACKS. Any long random strings; each is derived per purpose.
    "KEYS": {},
    # Older name of KEYS["idp_secret"] (IdP client secrets, Fernet); still read.
    "FIELD_ENCRYPTION_KEYS": [],
    # Single sign-on: seconds to wait for an IdP (discovery, JWKS, token and userinfo calls).
    "SSO_HTTP_TIMEOUT": 5.0,
    # Seconds an IdP's discovery document and JWKS stay cached (a JWKS is refetched early on an unknown kid).
    "SSO_METADATA_CACHE_SECONDS": 3600,
    # Signature algorithms accepted on an IdP's ID token. Never "none", never an HMAC algorithm.
    "SSO_ID_TOKEN_ALGORITHMS": ["RS256", "ES256"],
    # Seconds a sign-in started at an IdP may take before its state expires.
    "SSO_STATE_MAX_AGE": 600,
    # Allow IdPs on http:// and on loopback/private addresses. For development and tests only: in production an
    # org admin could otherwise make the server fetch internal URLs.
    "SSO_ALLOW_LOCAL_IDPS": False,
    # SAML: seconds of clock difference allowed with an IdP on NotBefore / NotOnOrAfter / IssueInstant.
    "SSO_SAML_CLOCK_SKEW": 60,
    # SAML: the xmlsec1 program pysaml2 verifies signatures with (Debian's xmlsec1); a path, or a name on PATH.
    "SSO_SAML_XMLSEC1": "xmlsec1",
    # --- Application connections (client-credentials clients) ---
    # Older name of KEYS["client_secret_pepper"] (the client-secret hash, ClientSecretHasher); still read.
    "CLIENT_SECRET_PEPPER": "",
    # Random bytes in a generated client secret (>= 32, i.e. at least 256 bits).
    "CLIENT_SECRET_BYTES": 32,
    # After a rotation the previous secret keeps working this long (seconds), so deployments can roll over.
    "CLIENT_SECRET_GRACE_SECONDS": 24 * 60 * 60,
    # Scopes an application connection may hold: name -> description (shown in admin). The host's API defines
    # them (the portal: the Jeto API's); pass the same dict to oauth2_provider_settings(api_scopes=...).
    "API_SCOPES": {},
    # Default access-token lifetime for application connections (seconds) when the client sets none.
    "API_TOKEN_LIFETIME": 3600,
    # Read by the opt-in fast paths' validator only (jeto_identity.contrib.fastpaths; without it every token commits
    # synchronously). PostgreSQL: commit a client-credentials token without waiting for its WAL flush
    # (synchronous_commit off for that one-row transaction only). A database crash can then lose tokens issued in
    # its last ~0.6 s; their clients get 401 invalid_token and fetch a new one. Other writes stay synchronous.
    "API_TOKEN_ASYNC_COMMIT": True,
    # last_used_at is written at most this often per client (seconds), keeping the token endpoint write-light.
    "CLIENT_LAST_USED_RESOLUTION_SECONDS": 60,
    # --- SCIM provisioning ---
    # Requests one SCIM token may make per minute (0: unlimited); beyond it the endpoint answers 429.
    "SCIM_REQUESTS_PER_MINUTE": 1200,
    # Staff must have passed a second factor in this session to use Django admin (turn on in production).
    "ADMIN_REQUIRES_MFA": False,
    # Wrong codes at one sign-in's challenge before the pending sign-in is abandoned (password asked again).
    "MFA_MAX_CHALLENGE_FAILURES": 5,
    # Older name of KEYS["totp"] (TOTP secrets, AES-SIV); still read.
    "TOTP_ENCRYPTION_KEYS": [],
    # How long (seconds) a password-verified sign-in waits for its second factor before it must start again.
    "MFA_PENDING_SECONDS": 600,
    # How recent a password must be (seconds) to remove an authenticator or regenerate recovery codes.
    "MFA_REAUTH_SECONDS": 300,
    # How long freshly issued recovery codes stay viewable/downloadable (seconds) before they are gone for good.
    "MFA_SHOW_CODES_SECONDS": 600,
    # Audit events older than this many days are deleted by `manage.py jeto_cleanup` (0 keeps them forever).
    "AUDIT_RETENTION_DAYS": 365,
    # Reverse proxies (IPs or CIDRs) whose X-Forwarded-For is believed. Empty: the socket address is the client.
    "TRUSTED_PROXIES": [],
    # Send password-reset mail from a background thread so response time reveals nothing (see services/mail.py).
    "SEND_MAIL_IN_BACKGROUND": True,
    # --- Plans and onboarding (docs/admins.md) ---
    # The plan of an organisation no platform admin has given one: {"features": [...], "max_sso_connections": N,
    # "max_api_clients": N}. Features: "sso", "mfa_policy", "api_clients", "scim". The default includes everything,
    # so organisations that existed before plans keep what they had; a host that sells plans lists fewer.
    "DEFAULT_PLAN": {"features": ["sso", "mfa_policy", "api_clients", "scim"]},
    # Who hears of activation requests and programme applications; empty: every active superuser.
    "PLATFORM_ADMIN_EMAILS": [],
    # The API Integrations programme's terms (a template; its digest is stored with each application).
    "API_PROGRAMME_TERMS_TEMPLATE": "jeto_identity/connections/programme_terms.txt",
    # Invitations: how long a link works (seconds), and how many invitations one admin may send per hour.
    "INVITATION_MAX_AGE": 72 * 3600,
    "INVITATIONS_PER_HOUR": 200,
    # Rows a bulk (CSV) invitation may hold.
    "INVITATION_CSV_MAX_ROWS": 500,
    # DNS resolvers for domain verification ("192.0.2.53" or "192.0.2.53:5353"), tried in turn; empty: the system's.
    "DNS_RESOLVERS": [],
    # Seconds one DNS lookup may take in total (every resolver and retry included).
    "DNS_TIMEOUT": 5.0,
    # --- Passkeys (WebAuthn) and sessions ---
    # The WebAuthn relying-party ID: the site's registrable domain (e.g. "example.com"). Empty: the request's host.
    # Credentials are bound to it: changing it later makes every registered passkey unusable.
    "WEBAUTHN_RP_ID": "",
    # Origins allowed to run a passkey ceremony ("https://id.example.com"). Empty: the request's own origin only.
    "WEBAUTHN_ORIGINS": [],
    # Seconds a passkey challenge stays valid (it is also single-use).
    "WEBAUTHN_CHALLENGE_SECONDS": 300,
    # A session's "last seen" is written at most this often (seconds); ended sessions are noticed at once.
    "SESSION_LAST_SEEN_SECONDS": 300,
    # --- Extension points (docs/integrators.md) ---
    # The class a host subclasses to change provisioning, role mapping, claims, mail and key material.
    "ADAPTER": "jeto_identity.adapter.DefaultAdapter",
    # Sign-in stages after the first factor, in order: (request, user, pending) -> URL of the next page, or None.
    # A link to an IdP is made only after the second factor, so the MFA stage comes first.
    "LOGIN_STAGES": [
        "jeto_identity.mfa.stage.login_stage",
        "jeto_identity.sso.services.link_confirmation_stage",
    ],
    # At the email step: (request, pending) -> URL to send the browser to instead of the password step, or None.
    "EMAIL_ROUTERS": ["jeto_identity.sso.services.email_router"],
}


class JetoSettings:
    def __init__(self) -> None:
        self._cache: dict[str, Any] | None = None
        self._derived: dict[str, Any] = {}

    def _load(self) -> dict[str, Any]:
        user = getattr(settings, "JETO_IDENTITY", {}) or {}
        unknown = set(user) - set(DEFAULTS)
        if unknown:
            raise ImproperlyConfigured(f"Unknown JETO_IDENTITY setting(s): {', '.join(sorted(unknown))}")
        merged = {**DEFAULTS, **user}
        from jeto_identity.core.keys import check_settings

        check_settings(merged)
        return merged

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if self._cache is None:
            self._cache = self._load()
        try:
            return self._cache[name]
        except KeyError:
            raise AttributeError(f"No JETO_IDENTITY setting {name!r}") from None

    def cached(self, key: str, factory: Callable[[], Any]) -> Any:
        """``factory()``, computed once until the settings change."""
        try:
            return self._derived[key]
        except KeyError:
            value = self._derived[key] = factory()
            return value

    def imported(self, name: str) -> Any:
        """A setting holding a dotted path (or a list of them), imported; cached until the settings change."""

        def load() -> Any:
            value = getattr(self, name)
            try:
                if isinstance(value, str):
                    return import_string(value)
                return [import_string(path) for path in value]
            except ImportError as exc:
                raise ImproperlyConfigured(f"JETO_IDENTITY[{name!r}]: {exc}") from exc

        return self.cached(f"imported:{name}", load)

    def reload(self) -> None:
        self._cache = None
        self._derived = {}


jeto_settings = JetoSettings()


def reload_on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    """``setting_changed`` receiver (connected in ``apps.ready``): tests that override JETO_IDENTITY see it."""
    if setting == "JETO_IDENTITY":
        jeto_settings.reload()
