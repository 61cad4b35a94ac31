"""System checks for application connections: client-secret hashing and API scopes (IDs ``E40x`` / ``W40x``)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from jeto_identity.core.checks import find_entry, matches
from jeto_identity.core.hashers import ClientSecretHasher

HASHER_PATH = "jeto_identity.core.hashers.ClientSecretHasher"


@register(Tags.security)
def check_client_secret_hashing(app_configs, **kwargs) -> list:
    problems: list = []
    hashers = list(getattr(settings, "PASSWORD_HASHERS", []))
    dot = getattr(settings, "OAUTH2_PROVIDER", {}) or {}
    if dot.get("CLIENT_SECRET_HASHER") == ClientSecretHasher.algorithm and find_entry(hashers, HASHER_PATH) is None:
        problems.append(
            Error(
                f"CLIENT_SECRET_HASHER is {ClientSecretHasher.algorithm!r} but {HASHER_PATH} is not in "
                "PASSWORD_HASHERS, so client secrets cannot be checked.",
                hint="Append it to PASSWORD_HASHERS (last, never first).",
                id="jeto_identity.E401",
            )
        )
    if hashers and matches(hashers[0], HASHER_PATH):
        problems.append(
            Error(
                "The client-secret hasher is first in PASSWORD_HASHERS: user passwords would get a fast hash.",
                hint="Keep Argon2 first; list the client-secret hasher last.",
                id="jeto_identity.E402",
            )
        )
    from jeto_identity.conf import jeto_settings

    missing = sorted(set(jeto_settings.API_SCOPES) - set(dot.get("SCOPES", {})))
    if missing:
        problems.append(
            Warning(
                f"API scope(s) {', '.join(missing)} are missing from OAUTH2_PROVIDER['SCOPES']: grants still work, "
                "but DOT's introspection and token pages will not list them.",
                hint="Add JETO_IDENTITY['API_SCOPES'] to OAUTH2_PROVIDER['SCOPES'].",
                id="jeto_identity.W401",
            )
        )
    return problems


@register(Tags.security, deploy=True)
def check_client_secret_pepper(app_configs, **kwargs) -> list:
    from jeto_identity.core import keys

    if keys.has_own_key(keys.CLIENT_SECRET_PEPPER):
        return []
    return [
        Warning(
            "Client-secret hashes are keyed from SECRET_KEY: a SECRET_KEY removed from SECRET_KEY_FALLBACKS "
            "invalidates every application connection's secret (hashes can't be re-keyed).",
            hint="Set JETO_IDENTITY['KEYS']['client_secret_pepper'] (or CLIENT_SECRET_PEPPER) to long random "
            "value(s) of its own, newest first; docs/key-rotation.md has the procedure.",
            id="jeto_identity.W402",
        )
    ]
