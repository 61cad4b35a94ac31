"""``oauth2_provider_settings``: the one source of the OpenID Provider's DOT settings (the portal uses it too)."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from jeto_identity.conf import DEFAULTS
from jeto_identity.provider.keys import generate_private_key_pem
from jeto_identity.provider.settings import OIDC_SCOPES, oauth2_provider_settings


def test_the_app_defines_no_api_scopes_of_its_own():
    assert DEFAULTS["API_SCOPES"] == {}
    assert set(oauth2_provider_settings()["SCOPES"]) == set(OIDC_SCOPES)


def test_names_our_server_and_validator_and_every_scope():
    provider = oauth2_provider_settings(issuer="https://id.example.com/")
    assert provider["OIDC_ENABLED"] is True
    assert provider["OIDC_ISS_ENDPOINT"] == "https://id.example.com"
    assert provider["OIDC_SERVER_CLASS"] == "jeto_identity.provider.server.JetoServer"
    assert provider["OAUTH2_VALIDATOR_CLASS"] == "jeto_identity.provider.validators.JetoOAuth2Validator"
    assert set(provider["SCOPES"]) == set(OIDC_SCOPES)
    assert provider["PKCE_REQUIRED"] is True and provider["OIDC_RESPONSE_TYPES_SUPPORTED"] == ["code"]
    assert provider["OIDC_RSA_PRIVATE_KEY"] == ""  # no key: left to the system check (E301), not hidden


def test_custom_api_scopes_and_overrides():
    provider = oauth2_provider_settings(api_scopes={"reports:read": "Reports"}, ACCESS_TOKEN_EXPIRE_SECONDS=60)
    assert set(provider["SCOPES"]) == {*OIDC_SCOPES, "reports:read"}
    assert provider["ACCESS_TOKEN_EXPIRE_SECONDS"] == 60


def test_key_from_settings_or_a_key_directory(tmp_path):
    pem = generate_private_key_pem(2048)
    assert oauth2_provider_settings(signing_key=pem)["OIDC_RSA_PRIVATE_KEY"] == pem
    assert oauth2_provider_settings(key_dir=tmp_path / "keys")["OIDC_RSA_PRIVATE_KEY"] == ""
    generated = oauth2_provider_settings(key_dir=tmp_path / "keys", generate_key=True)["OIDC_RSA_PRIVATE_KEY"]
    assert generated == (tmp_path / "keys" / "current.pem").read_text()
    assert oauth2_provider_settings(key_dir=tmp_path / "keys")["OIDC_RSA_PRIVATE_KEY"] == generated


def test_unusable_key_or_code_lifetime_is_a_startup_error():
    with pytest.raises(ImproperlyConfigured, match="signing key"):
        oauth2_provider_settings(signing_key="not a key")
    with pytest.raises(ImproperlyConfigured, match="600"):
        oauth2_provider_settings(AUTHORIZATION_CODE_EXPIRE_SECONDS=601)


def test_the_portal_uses_the_helper():
    from django.utils.module_loading import import_string

    from jeto_identity.provider.validators import JetoOAuth2Validator

    expected = oauth2_provider_settings(
        issuer=settings.JETO_IDENTITY["ISSUER"],
        signing_key=settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"],
        previous_signing_keys=settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEYS_INACTIVE"],
        api_scopes=settings.JETO_IDENTITY["API_SCOPES"],
    )
    tuned = {"OAUTH2_VALIDATOR_CLASS"} | {k for k in expected if k.endswith("_EXPIRE_SECONDS")}  # env / fast paths
    portal = settings.OAUTH2_PROVIDER
    assert {k: portal[k] for k in expected if k not in tuned} == {k: v for k, v in expected.items() if k not in tuned}
    assert issubclass(import_string(portal["OAUTH2_VALIDATOR_CLASS"]), JetoOAuth2Validator)


def test_the_first_key_can_be_made_while_its_absence_is_a_check_error(settings, tmp_path):
    from django.core.management import load_command_class
    from django.core.management.base import OutputWrapper

    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_RSA_PRIVATE_KEY": ""}  # E301
    command = load_command_class("jeto_identity", "oidckeys")
    command.stdout = OutputWrapper(io.StringIO())
    command.run_from_argv(["manage.py", "oidckeys", "rotate", "--dir", str(tmp_path)])  # as from a shell: checks run
    assert oauth2_provider_settings(key_dir=tmp_path)["OIDC_RSA_PRIVATE_KEY"]
