"""Multi-factor authentication on django-otp: TOTP enrolment, verification, recovery codes and org policy.

Free of HTTP. Every verification runs inside a transaction with the device row locked (``select_for_update``), so
a code is accepted at most once even when two requests carry it at the same moment: the second waits for the
first to commit, then sees the advanced ``last_t`` (TOTP) or the deleted token (recovery code).

django-otp supplies the algorithm (RFC 6238), replay protection (``last_t``), and throttling with growing delays
(1 s, 2 s, 4 s ... after each consecutive failure, reset by a success).
"""

from __future__ import annotations

import base64
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlencode

import qrcode
import qrcode.image.svg
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.util import random_hex

from jeto_identity.conf import jeto_settings
from jeto_identity.core import keys, sql
from jeto_identity.mfa import signals, totp_keys
from jeto_identity.models import EncryptedTOTPDevice as TOTPDevice  # django-otp's TOTPDevice, secret encrypted at rest
from jeto_identity.models import Membership, Organization, User, WebAuthnDevice

logger = logging.getLogger("jeto_identity.mfa")

TOTP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"
RECOVERY_CODE_COUNT = 10
# At most one step either side of our clock (NIST 800-63B: a small window). Never widened by stored drift.
MAX_TOLERANCE = 1
_RECOVERY_SALT = "jeto_identity.mfa.recovery-code"


class EnrolmentError(Exception):
    """Enrolment can't proceed (already enrolled, or the pending secret is gone)."""


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    method: str = ""  # "totp" or "recovery" when ok
    device: TOTPDevice | StaticDevice | None = None
    locked_until: datetime | None = None  # set when throttled: no code is checked before this moment
    recovery_codes_left: int | None = None

    @property
    def throttled(self) -> bool:
        return self.locked_until is not None


# --- status and policy -----------------------------------------------------------------------------------------


def confirmed_totp_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def has_totp(user: User) -> bool:
    return bool(getattr(user, "pk", None)) and TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def has_passkey(user: User) -> bool:
    return bool(getattr(user, "pk", None)) and WebAuthnDevice.objects.filter(user=user, confirmed=True).exists()


def has_mfa(user: User) -> bool:
    """Does the user have a working second factor (a confirmed authenticator app, or a passkey)? One query."""
    if not getattr(user, "pk", None):
        return False
    found = (
        User.objects.filter(pk=user.pk)
        .annotate(
            has_totp=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
            has_passkey=Exists(WebAuthnDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
        )
        .values_list("has_totp", "has_passkey")
        .first()
    )
    return bool(found and any(found))


def mfa_required(user: User) -> bool:
    """Is the user a member of any organisation that requires MFA (at any level)?"""
    return (
        bool(getattr(user, "pk", None))
        and Membership.objects.filter(user=user)
        .filter(Q(organization__mfa_required=True) | Q(organization__phishing_resistant_only=True))
        .exists()
    )


@dataclass(frozen=True)
class PhishingResistantPolicy:
    """An organisation of the user accepts only passkeys/security keys (``required``); from ``deadline`` on
    (``enforced``) authenticator-app codes and recovery codes no longer sign the user in."""

    required: bool = False
    deadline: datetime | None = None

    @property
    def enforced(self) -> bool:
        return self.required and self.deadline is not None and self.deadline <= timezone.now()

    @property
    def in_grace(self) -> bool:
        return self.required and not self.enforced


def phishing_resistant_policy(user: User) -> PhishingResistantPolicy:
    """The strictest "phishing-resistant only" policy among the user's organisations (the earliest deadline)."""
    return member_policy(user).phishing_resistant


@dataclass(frozen=True)
class MemberPolicy:
    """What the user's organisations require, read in one query."""

    mfa_required: bool = False
    phishing_resistant: PhishingResistantPolicy = PhishingResistantPolicy()


_POLICY_FIELDS = (
    "mfa_required",
    "phishing_resistant_only",
    "phishing_resistant_since",
    "phishing_resistant_grace_days",
)


def _policy_of(orgs: list[Organization]) -> MemberPolicy:
    requiring = [org for org in orgs if org.mfa_required or org.phishing_resistant_only]
    deadlines = [org.phishing_resistant_deadline for org in requiring if org.phishing_resistant_only]
    strict = PhishingResistantPolicy(required=True, deadline=min(deadlines)) if deadlines else PhishingResistantPolicy()
    return MemberPolicy(mfa_required=bool(requiring), phishing_resistant=strict)


def member_policy(user: User) -> MemberPolicy:
    """``mfa_required`` and the phishing-resistant policy of the user's organisations, in one query."""
    if not getattr(user, "pk", None):
        return MemberPolicy()
    return _policy_of(
        list(
            Organization.objects.filter(memberships__user=user)
            .filter(Q(mfa_required=True) | Q(phishing_resistant_only=True))
            .only(*_POLICY_FIELDS)
        )
    )


@dataclass(frozen=True)
class Standing:
    """What the sign-in stage and the MFA policy middleware ask about a user, read together.

    ``organizations``: every organisation the user is a member of (its name and policy fields loaded), for the
    sign-in's audit event (``audit.organization_for(..., organizations=)``)."""

    has_mfa: bool
    policy: MemberPolicy
    organizations: tuple[Organization, ...]


def standing(user: User) -> Standing:
    """``has_mfa()`` and ``member_policy()`` in one query (two when the user belongs to no organisation)."""
    if not getattr(user, "pk", None):
        return Standing(False, MemberPolicy(), ())
    user_id = User._meta.pk.get_db_prep_value(user.pk, connection)
    orgs = list(Organization.objects.raw(sql.written_once("standing", _standing_sql), [user_id] * 3))
    found = (orgs[0].user_has_totp or orgs[0].user_has_passkey) if orgs else has_mfa(user)
    return Standing(has_mfa=bool(found), policy=_policy_of(orgs), organizations=tuple(orgs))


def _standing_sql(quote: sql.Quote) -> str:
    """The user's organisations, each with whether the user has a confirmed authenticator app or passkey."""

    def confirmed_of_user(model: type) -> str:
        user, confirmed = sql.column(model, "user", quote), sql.column(model, "confirmed", quote)
        return f"EXISTS (SELECT 1 FROM {quote(model._meta.db_table)} x WHERE x.{user} = %s AND x.{confirmed})"  # noqa: S608

    return (
        f"SELECT {sql.columns(Organization, 'o', quote)}, {confirmed_of_user(TOTPDevice)} AS user_has_totp,"  # noqa: S608
        f" {confirmed_of_user(WebAuthnDevice)} AS user_has_passkey FROM {quote(Organization._meta.db_table)} o"
        f" INNER JOIN {quote(Membership._meta.db_table)} m ON m.{sql.column(Membership, 'organization', quote)}"
        f" = o.{quote(Organization._meta.pk.column)} WHERE m.{sql.column(Membership, 'user', quote)} = %s"
    )


def enrolled_factors(user: User) -> dict[str, int]:
    """How many of each factor the user has (never the secrets): for the account page and org admins."""
    return {
        "totp": TOTPDevice.objects.filter(user=user, confirmed=True).count(),
        "passkeys": WebAuthnDevice.objects.filter(user=user, confirmed=True).count(),
        "recovery_codes": recovery_codes_left(user),
    }


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


# --- enrolment -------------------------------------------------------------------------------------------------


def start_enrolment(user: User, device_id: int | None = None) -> TOTPDevice:
    """Return an unconfirmed TOTP device with a fresh server-generated secret (or the one already being set up).

    The device counts for nothing until :func:`confirm_enrolment` sees a valid code from it.
    """
    if has_totp(user):
        raise EnrolmentError("An authenticator app is already set up for this account.")
    if device_id is not None:
        existing = TOTPDevice.objects.filter(pk=device_id, user=user, confirmed=False).first()
        if existing is not None:
            return existing
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        secret = bytes.fromhex(random_hex(20))  # 160 bits, RFC 4226's recommended length
        return TOTPDevice.objects.create(
            user=user,
            key=totp_keys.encrypt(secret, user.pk),
            name=TOTP_DEVICE_NAME,
            confirmed=False,
            step=30,
            digits=6,
            tolerance=MAX_TOLERANCE,
            drift=0,
        )


def confirm_enrolment(user: User, device_id: int, code: str) -> tuple[VerifyResult, list[str]]:
    """Confirm the pending device with a code from the app; on success return fresh recovery codes (shown once)."""
    token = normalize_code(code)
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(pk=device_id, user=user, confirmed=False).first()
        if device is None:
            raise EnrolmentError("This setup has expired. Start again to get a new code.")
        result = _verify_totp(device, token)
        if not result.ok:
            return result, []
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        codes = _replace_recovery_codes(user)
    logger.info("mfa.enrolled user=%s", user.pk)
    signals.mfa_enabled.send(sender=User, user=user, device=device)
    return result, codes


# --- verification ----------------------------------------------------------------------------------------------


def normalize_code(code: str) -> str:
    """Digits for a TOTP code, lower-case letters and digits for a recovery code; spaces and dashes dropped."""
    return re.sub(r"[\s\-]", "", str(code or ""))[:64].lower()


def is_totp_shaped(token: str, digits: int = 6) -> bool:
    return token.isdigit() and len(token) == digits


def verify_second_factor(user: User, code: str) -> VerifyResult:
    """Check a code from the authenticator app, or a recovery code. Accepts each code at most once."""
    token = normalize_code(code)
    if not token:
        return VerifyResult(ok=False)
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("pk").first()
        if device is not None and is_totp_shaped(token, device.digits):
            result = _verify_totp(device, token)
        elif not is_totp_shaped(token) and (device is not None or has_passkey(user)):
            result = _verify_recovery_code(user, token)  # a passkey user's fallback too
        else:
            return VerifyResult(ok=False)
    if result.ok:
        logger.info("mfa.verified user=%s method=%s", user.pk, result.method)
    return result


def _verify_totp(device: TOTPDevice, token: str) -> VerifyResult:
    """``device`` must be locked by the caller's transaction."""
    allowed, info = device.verify_is_allowed()
    if not allowed:
        return VerifyResult(ok=False, locked_until=(info or {}).get("locked_until"))
    # The window is +/- MAX_TOLERANCE steps around our own clock: stored drift never widens it.
    device.drift = 0
    device.tolerance = min(device.tolerance, MAX_TOLERANCE)
    try:
        verified = device.verify_token(token)
    except totp_keys.KeyDecryptionError:
        logger.error("mfa.undecryptable_secret device=%s: check TOTP_ENCRYPTION_KEYS", device.pk)
        return VerifyResult(ok=False)
    if verified:
        return VerifyResult(ok=True, method="totp", device=device)
    return VerifyResult(ok=False)


def _verify_recovery_code(user: User, token: str) -> VerifyResult:
    device = StaticDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("pk").first()
    if device is None:
        return VerifyResult(ok=False)
    allowed, info = device.verify_is_allowed()
    if not allowed:
        return VerifyResult(ok=False, locked_until=(info or {}).get("locked_until"))
    candidates = _recovery_code_hashes(token)  # one per key of the keyring: codes issued before a rotation work
    stored = device.token_set.filter(token__in=candidates).values_list("token", flat=True).first()
    if device.verify_token(stored or candidates[0]):
        left = device.token_set.count()
        return VerifyResult(ok=True, method="recovery", device=device, recovery_codes_left=left)
    return VerifyResult(ok=False)


# --- recovery codes --------------------------------------------------------------------------------------------


def _recovery_code_hashes(token: str) -> list[str]:
    """Keyed hashes (HMAC-SHA256, 64 bits kept) for django-otp's 16-character token column, one per key of the
    keyring's ``recovery_code`` purpose (SECRET_KEY and its fallbacks unless configured), newest first.

    A copy of the database alone does not reveal usable codes.
    """
    return [
        salted_hmac(_RECOVERY_SALT, token, secret=key, algorithm="sha256").hexdigest()[:16]
        for key in keys.keys(keys.RECOVERY_CODE)
    ]


def _format_recovery_code(raw: str) -> str:
    return f"{raw[:4]}-{raw[4:]}"


def _replace_recovery_codes(user: User) -> list[str]:
    """Replace the tokens of the user's recovery-code device, keeping the device itself.

    A session that signed in with a recovery code is verified against this device (django-otp keeps its
    persistent id in the session); replacing the device would sign that session out before it saw the new codes.
    """
    device = StaticDevice.objects.select_for_update().filter(user=user).order_by("pk").first()
    if device is None:
        device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    else:
        StaticDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.token_set.all().delete()
        if not device.confirmed or device.name != RECOVERY_DEVICE_NAME:
            device.confirmed, device.name = True, RECOVERY_DEVICE_NAME
            device.save(update_fields=["confirmed", "name"])
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]  # 8 base32 chars = 40 bits each
    StaticToken.objects.bulk_create([StaticToken(device=device, token=_recovery_code_hashes(c)[0]) for c in codes])
    return [_format_recovery_code(c) for c in codes]


def ensure_recovery_codes(user: User) -> list[str]:
    """Issue recovery codes when the user has none left (their first passkey); [] when they still have some."""
    with transaction.atomic():
        if recovery_codes_left(user):
            return []
        return _replace_recovery_codes(user)


def regenerate_recovery_codes(user: User) -> list[str]:
    """Invalidate every existing recovery code and issue a new set (the caller enforces recent re-auth)."""
    if not has_mfa(user):
        raise EnrolmentError("Set up an authenticator app or a passkey first.")
    with transaction.atomic():
        codes = _replace_recovery_codes(user)
    logger.info("mfa.recovery_codes_regenerated user=%s", user.pk)
    return codes


# --- removal and reset -----------------------------------------------------------------------------------------


def _delete_devices(user: User, *, passkeys: bool = True) -> int:
    """Delete the user's devices; how many devices (not rows: a device's recovery codes go with it).

    ``passkeys=False``: the authenticator app only, and the recovery codes unless a passkey still needs them.
    """
    with transaction.atomic():
        _, totp = TOTPDevice.objects.filter(user=user).delete()
        webauthn = {}
        if passkeys:
            _, webauthn = WebAuthnDevice.objects.filter(user=user).delete()
        static = {}
        if passkeys or not has_passkey(user):
            _, static = StaticDevice.objects.filter(user=user).delete()
    return (
        totp.get(TOTPDevice._meta.label, 0)
        + static.get(StaticDevice._meta.label, 0)
        + webauthn.get(WebAuthnDevice._meta.label, 0)
    )


def remove_mfa(user: User) -> int:
    """Delete the user's authenticator app(s), and their recovery codes unless a passkey remains.

    Passkeys are removed one by one (``webauthn.services.remove``). Returns how many devices were removed.
    """
    removed = _delete_devices(user, passkeys=False)
    if removed:
        signals.mfa_removed.send(sender=User, user=user, devices=removed)
    return removed


def reset_mfa(actor: User, target: User) -> int:
    """An administrator's reset of every factor (authenticator app, passkeys, recovery codes); the caller checks
    that ``actor`` may manage ``target``."""
    removed = _delete_devices(target)
    logger.info("mfa.reset user=%s by=%s", target.pk, actor.pk)
    if removed:
        signals.mfa_reset.send(sender=User, user=target, actor=actor, devices=removed)
    return removed


# --- presentation helpers (pure) -------------------------------------------------------------------------------


def base32_secret(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode("ascii").rstrip("=")


def manual_entry_key(device: TOTPDevice) -> str:
    """The secret in groups of four for typing into an app by hand."""
    secret = base32_secret(device)
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def otpauth_uri(device: TOTPDevice, user: User) -> str:
    """``otpauth://totp/Issuer:email?secret=...&issuer=Issuer&algorithm=SHA1&digits=6&period=30``."""
    issuer = str(jeto_settings.SITE_NAME).replace(":", "").strip() or "Jeto"
    label = f"{issuer}:{user.email}"
    params = {
        "secret": base32_secret(device),
        "issuer": issuer,
        "algorithm": "SHA1",
        "digits": device.digits,
        "period": device.step,
    }
    return f"otpauth://totp/{quote(label)}?{urlencode(params, quote_via=quote)}"


def qr_svg(data: str) -> str:
    """An inline SVG QR code, drawn on the server (nothing leaves it)."""
    image = qrcode.make(
        data,
        image_factory=qrcode.image.svg.SvgPathImage,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        box_size=10,
        border=4,
    )
    svg = image.to_string(encoding="unicode")
    return re.sub(r"^<\?xml[^>]*>\s*", "", svg)
