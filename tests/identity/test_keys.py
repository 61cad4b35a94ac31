"""The one keyring: one rule for every purpose, SECRET_KEY rotated the Django way, older stored values readable."""

from __future__ import annotations

import base64

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ImproperlyConfigured
from django.utils.crypto import salted_hmac
from django_otp.plugins.otp_static.models import StaticToken

from jeto_identity.adapter import DefaultAdapter
from jeto_identity.core import crypto, keys
from jeto_identity.core.hashers import ClientSecretHasher
from jeto_identity.mfa import services as mfa
from jeto_identity.mfa import totp_keys

from .mfa_support import enrol

KEY_A = "secret-key-A-0123456789abcdefghijklmnopqrstuvwxyz-0123456789"
KEY_B = "secret-key-B-0123456789abcdefghijklmnopqrstuvwxyz-0123456789"
NO_KEYS = {"KEYS": {}, "FIELD_ENCRYPTION_KEYS": [], "TOTP_ENCRYPTION_KEYS": [], "CLIENT_SECRET_PEPPER": []}


@pytest.fixture
def jeto(settings):
    """Set JETO_IDENTITY entries on top of the test settings: ``jeto(KEYS={...})``."""

    def set_(**values):
        settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, **values}

    return set_


@pytest.fixture
def derived(settings, jeto):
    """No purpose has keys of its own: all come from SECRET_KEY (KEY_A) and SECRET_KEY_FALLBACKS."""
    jeto(**NO_KEYS)
    settings.SECRET_KEY = KEY_A
    settings.SECRET_KEY_FALLBACKS = []
    return settings


# One writer and one reader per purpose: write() stores a value and returns a check that it still opens.


def _totp(user):
    device, _ = enrol(user)
    stored = device.key
    secret = totp_keys.decrypt(stored, user.pk)

    def read() -> bool:
        try:
            return totp_keys.decrypt(stored, user.pk) == secret
        except totp_keys.KeyDecryptionError:
            return False

    return read


def _idp_secret(user):
    token = crypto.encrypt("the-idp-client-secret")

    def read() -> bool:
        try:
            return crypto.decrypt(token) == "the-idp-client-secret"
        except crypto.DecryptionError:
            return False

    return read


def _client_secret(user):
    encoded = make_password("an-application-secret", hasher=ClientSecretHasher.algorithm)
    return lambda: check_password("an-application-secret", encoded)


def _recovery_code(user):
    codes = mfa._replace_recovery_codes(user)
    stored = list(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    # Reading a code would use it up; check that one of its hashes under the current keys is stored instead.
    return lambda: bool(set(mfa._recovery_code_hashes(codes[0].replace("-", ""))) & set(stored))


WRITERS = {
    keys.TOTP: _totp,
    keys.IDP_SECRET: _idp_secret,
    keys.CLIENT_SECRET_PEPPER: _client_secret,
    keys.RECOVERY_CODE: _recovery_code,
}


@pytest.mark.parametrize("purpose", WRITERS)
def test_rotating_secret_key_the_django_way_keeps_stored_values(purpose, derived, acme_member):
    read = WRITERS[purpose](acme_member)
    assert read()
    derived.SECRET_KEY = KEY_B
    derived.SECRET_KEY_FALLBACKS = [KEY_A]
    assert read()
    derived.SECRET_KEY_FALLBACKS = []
    assert not read()


@pytest.mark.parametrize("purpose", WRITERS)
def test_a_purpose_with_keys_of_its_own_ignores_secret_key(purpose, derived, jeto, acme_member):
    jeto(KEYS={purpose: ["a-key-of-its-own-0123456789"]})
    read = WRITERS[purpose](acme_member)
    derived.SECRET_KEY = KEY_B
    assert read()
    jeto(KEYS={purpose: ["another-key-0123456789"]})
    assert not read()


@pytest.mark.parametrize("purpose", WRITERS)
def test_the_secret_key_entry_moves_a_purpose_off_secret_key(purpose, derived, jeto, acme_member):
    read = WRITERS[purpose](acme_member)
    jeto(KEYS={purpose: ["a-key-of-its-own-0123456789", "SECRET_KEY"]})
    assert read()
    assert keys.has_own_key(purpose)
    jeto(KEYS={purpose: ["a-key-of-its-own-0123456789"]})
    assert not read()


def test_older_setting_names_are_the_same_keys(derived, jeto):
    for purpose, legacy in [
        (keys.TOTP, "TOTP_ENCRYPTION_KEYS"),
        (keys.IDP_SECRET, "FIELD_ENCRYPTION_KEYS"),
        (keys.CLIENT_SECRET_PEPPER, "CLIENT_SECRET_PEPPER"),
    ]:
        jeto(**{**NO_KEYS, legacy: ["k-new-0123456789", "k-old-0123456789"]})
        by_old_name = keys.keys(purpose)
        jeto(**{**NO_KEYS, "KEYS": {purpose: "k-new-0123456789, k-old-0123456789"}})  # a string is comma-separated
        assert keys.keys(purpose) == by_old_name and len(by_old_name) == 2


def test_each_purpose_derives_keys_of_its_own(derived, jeto):
    assert len({keys.keys(p)[0] for p in keys.PURPOSES if p != keys.RECOVERY_CODE}) == 3
    jeto(KEYS={p: ["one-secret-for-all-0123456789"] for p in (keys.TOTP, keys.IDP_SECRET)})
    assert keys.keys(keys.TOTP)[0][:32] != keys.keys(keys.IDP_SECRET)[0]


def test_a_purpose_configured_twice_or_an_unknown_purpose_is_an_error(derived, jeto):
    jeto(KEYS={keys.TOTP: ["a-0123456789"]}, TOTP_ENCRYPTION_KEYS=["b-0123456789"])
    with pytest.raises(ImproperlyConfigured, match="both set"):
        keys.keys(keys.TOTP)
    jeto(KEYS={"totps": ["a-0123456789"]}, TOTP_ENCRYPTION_KEYS=[])
    from jeto_identity.conf import jeto_settings

    with pytest.raises(ImproperlyConfigured, match="Unknown key purpose"):
        jeto_settings.KEYS  # noqa: B018 - loading the settings validates them


def test_values_written_before_the_keyring_still_open(derived, acme_member):
    """Stored values made by the code the keyring replaced (same derivations, inlined here) stay readable."""
    material = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"jeto-identity field encryption v1")
    old_fernet = Fernet(base64.urlsafe_b64encode(material.derive(f"derived-from-secret-key:{KEY_A}".encode())))
    assert crypto.decrypt(old_fernet.encrypt(b"legacy").decode()) == "legacy"

    pepper = salted_hmac("jeto_identity.client_secret_pepper", "", secret=KEY_A, algorithm="sha256").digest()
    assert ClientSecretHasher()._encode_with(pepper, "s3cret", "salt") == make_password(
        "s3cret", "salt", hasher=ClientSecretHasher.algorithm
    )

    code = "abcd2345"
    assert (
        mfa._recovery_code_hashes(code)[0]
        == salted_hmac("jeto_identity.mfa.recovery-code", code, algorithm="sha256").hexdigest()[:16]
    )


def test_recovery_codes_issued_before_a_secret_key_rotation_still_work(derived, acme_member):
    device, codes = enrol(acme_member)
    derived.SECRET_KEY = KEY_B
    derived.SECRET_KEY_FALLBACKS = [KEY_A]
    result = mfa.verify_second_factor(acme_member, codes[0])
    assert result.ok and result.method == "recovery"
    assert not mfa.verify_second_factor(acme_member, codes[0]).ok  # used up, as before


def test_the_adapter_can_supply_key_material(derived, jeto, acme_member):
    read = _idp_secret(acme_member)
    jeto(ADAPTER=f"{__name__}.VaultAdapter")
    assert not read()
    assert keys.has_own_key(keys.IDP_SECRET)
    assert crypto.decrypt(crypto.encrypt("x")) == "x"
    assert keys.keys(keys.TOTP) == keys.keys(keys.TOTP)  # other purposes: the default rule


class VaultAdapter(DefaultAdapter):
    """A host that reads the IdP-secret key from its own secret store."""

    def key_material(self, purpose: str) -> list[str | bytes]:
        if purpose == keys.IDP_SECRET:
            return ["from-the-vault-0123456789"]
        return super().key_material(purpose)


# --- the older settings keep the parsing the values were written with ---------------------------------------------
# What the previous releases did, written out here: a stored value made by that code must still open.


def _old_totp_encrypt(secret: str, raw: bytes, user_id) -> str:
    """The previous TOTP code: AES-SIV under HKDF(secret), the entry exactly as listed."""
    from cryptography.hazmat.primitives.ciphers.aead import AESSIV

    key = HKDF(algorithm=hashes.SHA256(), length=64, salt=None, info=b"jeto_identity totp key encryption v1")
    sealed = AESSIV(key.derive(secret.encode())).encrypt(raw, [b"jeto_identity.totp", str(user_id).encode()])
    return "enc1:" + base64.urlsafe_b64encode(sealed).decode("ascii").rstrip("=")


def _old_client_secret_hash(pepper: str, password: str, salt: str) -> str:
    """The previous ClientSecretHasher: HMAC-SHA256 under the pepper, a string being one pepper."""
    import hashlib
    import hmac

    digest = hmac.new(pepper.encode(), f"{salt}${password}".encode(), hashlib.sha256).digest()
    return f"{ClientSecretHasher.algorithm}${salt}${base64.b64encode(digest).decode('ascii')}"


@pytest.mark.parametrize("position", [0, 1])
def test_a_totp_key_listed_with_a_leading_space_still_opens_what_it_wrote(derived, jeto, acme_member, position):
    # env.list("JETO_TOTP_ENCRYPTION_KEYS") on "k-new-..., k-old-..." gives " k-old-...".
    listed = ["k-new-0123456789abcdef", " k-old-0123456789abcdef"]
    jeto(TOTP_ENCRYPTION_KEYS=listed)
    stored = _old_totp_encrypt(listed[position], b"twenty-byte-secret!!", acme_member.pk)
    assert totp_keys.decrypt(stored, acme_member.pk) == b"twenty-byte-secret!!"
    assert totp_keys.decrypt(totp_keys.encrypt(b"new", acme_member.pk), acme_member.pk) == b"new"


def test_a_totp_key_string_still_opens_what_the_old_code_wrote_under_it(derived, jeto, acme_member):
    jeto(TOTP_ENCRYPTION_KEYS="k-0123456789")
    stored = _old_totp_encrypt("k", b"twenty-byte-secret!!", acme_member.pk)  # list("k-0...")[0] wrote
    assert totp_keys.decrypt(stored, acme_member.pk) == b"twenty-byte-secret!!"


@pytest.mark.parametrize(
    ("setting", "pepper"),
    [
        ("pepper-one,pepper-two-0123456789", "pepper-one,pepper-two-0123456789"),  # a string is one pepper
        (["pepper-new-0123456789", " pepper-old-0123456789"], " pepper-old-0123456789"),  # entries as given
        (["pepper-new-0123456789", " pepper-old-0123456789"], "pepper-new-0123456789"),
    ],
)
def test_a_client_secret_hashed_under_the_old_pepper_parsing_still_verifies(derived, jeto, setting, pepper):
    jeto(CLIENT_SECRET_PEPPER=setting)
    encoded = _old_client_secret_hash(pepper, "an-application-secret", "somesalt")
    assert check_password("an-application-secret", encoded)
    assert not check_password("another-secret", encoded)


def test_a_pepper_string_with_a_comma_still_writes_as_the_old_code_did(derived, jeto):
    jeto(CLIENT_SECRET_PEPPER="pepper-one,pepper-two-0123456789")
    fresh = ClientSecretHasher().encode("an-application-secret", "somesalt")
    assert fresh == _old_client_secret_hash("pepper-one,pepper-two-0123456789", "an-application-secret", "somesalt")
