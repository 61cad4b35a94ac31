"""Passkey ceremonies (WebAuthn Level 3) on Duo's py_webauthn, stored as django-otp devices. Free of HTTP views.

* Registration: ``registration_options`` -> browser ``navigator.credentials.create`` -> ``register``.
* Authentication: ``authentication_options`` -> ``navigator.credentials.get`` -> ``authenticate``, for a second
  factor (the pending user's credentials, user verification preferred) or passwordless (a discoverable
  credential, user verification required).

Each challenge is random (py_webauthn's 64 bytes), bound to one purpose and one user, kept in the server-side
session and removed on its first use, success or not: a replayed response finds no challenge. The relying-party
ID and the allowed origins come from ``JETO_IDENTITY["WEBAUTHN_RP_ID"]`` / ``["WEBAUTHN_ORIGINS"]`` (else the
request's own host and origin); py_webauthn refuses a response made for another origin or RP ID, a bad
signature, or a signature counter that did not grow (a possible cloned authenticator: the credential is flagged
and refused until its owner removes it).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from django.core import signing
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import (
    InvalidAuthenticationResponse,
    InvalidJSONStructure,
    InvalidRegistrationResponse,
    WebAuthnException,
)
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    CredentialDeviceType,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from jeto_identity.conf import jeto_settings
from jeto_identity.mfa import signals
from jeto_identity.models import User, WebAuthnDevice

logger = logging.getLogger("jeto_identity.mfa")

STATE_KEY = "jeto_webauthn"
REGISTER = "register"
SECOND_FACTOR = "second_factor"
PASSWORDLESS = "passwordless"
NAME_MAX = 64
CREDENTIAL_MAX_BYTES = 64 * 1024  # a response larger than this is not a WebAuthn response
_PASSWORDLESS_SALT = "jeto_identity.webauthn.passwordless"


class CeremonyError(Exception):
    """A ceremony failed: ``reason`` is a stable code for audit and tests, ``str()`` the message for people."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


EXPIRED = CeremonyError("expired", "This passkey request has expired. Try again.")


@dataclass(frozen=True)
class Authenticated:
    device: WebAuthnDevice
    user: User
    user_verified: bool
    amr: list[str] = field(default_factory=list)


# --- relying party ------------------------------------------------------------------------------------------


def rp_id(request: HttpRequest) -> str:
    configured = str(jeto_settings.WEBAUTHN_RP_ID or "")
    if configured:
        return configured
    host = request.get_host()
    return host.rsplit(":", 1)[0] if not host.endswith("]") else host  # drop the port (IPv6 literals keep theirs)


def origins(request: HttpRequest) -> list[str]:
    configured = [str(o).rstrip("/") for o in jeto_settings.WEBAUTHN_ORIGINS or []]
    return configured or [f"{request.scheme}://{request.get_host()}"]


def user_handle(user: User) -> bytes:
    """The WebAuthn user handle: the account's random UUID (its OIDC ``sub``), never the email."""
    return user.pk.bytes


def amr_for(device: WebAuthnDevice) -> str:
    """RFC 8176: ``swk`` for a synced (backed-up) passkey, ``hwk`` for a device-bound key."""
    return "swk" if device.backed_up else "hwk"


# --- challenge state ----------------------------------------------------------------------------------------


def _remember(request: HttpRequest, purpose: str, challenge: bytes, user_id: str | None) -> None:
    request.session[STATE_KEY] = {
        "purpose": purpose,
        "challenge": bytes_to_base64url(challenge),
        "user_id": user_id,
        "at": int(time.time()),
    }


def _take(request: HttpRequest, purpose: str, user_id: str | None) -> bytes:
    """The challenge issued for this purpose (and user), removed from the session: usable once."""
    state = request.session.pop(STATE_KEY, None)
    if not isinstance(state, dict) or state.get("purpose") != purpose or state.get("user_id") != user_id:
        raise EXPIRED
    if not 0 <= time.time() - int(state.get("at", 0)) <= int(jeto_settings.WEBAUTHN_CHALLENGE_SECONDS):
        raise EXPIRED
    return base64url_to_bytes(state["challenge"])


def _signed_state(challenge: bytes) -> str:
    """Passwordless challenges travel signed with the page, not in the session: the sign-in page writes nothing."""
    return signing.dumps(bytes_to_base64url(challenge), salt=_PASSWORDLESS_SALT, compress=False)


def _take_signed(state: Any) -> bytes:
    """The challenge of a signed passwordless state, accepted once (a cache entry marks it used)."""
    max_age = int(jeto_settings.WEBAUTHN_CHALLENGE_SECONDS)
    try:
        encoded = signing.loads(str(state or ""), salt=_PASSWORDLESS_SALT, max_age=max_age)
        challenge = base64url_to_bytes(encoded)
    except (signing.BadSignature, ValueError, TypeError):
        raise EXPIRED from None
    marker = "jeto:webauthn:used:" + hashlib.sha256(challenge).hexdigest()
    if not cache.add(marker, 1, timeout=max_age + 60):
        raise EXPIRED
    return challenge


def _timeout_ms() -> int:
    return int(jeto_settings.WEBAUTHN_CHALLENGE_SECONDS) * 1000


def _descriptors(devices) -> list[PublicKeyCredentialDescriptor]:
    out = []
    for device in devices:
        transports = []
        for t in device.transports or []:
            try:
                transports.append(AuthenticatorTransport(t))
            except ValueError:
                continue
        out.append(PublicKeyCredentialDescriptor(id=base64url_to_bytes(device.credential_id), transports=transports))
    return out


def _parse(credential: Any) -> dict[str, Any]:
    """The browser's PublicKeyCredential as JSON (a dict, or a string of one), bounded."""
    if isinstance(credential, str | bytes):
        if len(credential) > CREDENTIAL_MAX_BYTES:
            raise CeremonyError("malformed", "That passkey response could not be read.")
        try:
            credential = json.loads(credential)
        except ValueError:
            raise CeremonyError("malformed", "That passkey response could not be read.") from None
    if not isinstance(credential, dict) or not isinstance(credential.get("id"), str) or len(credential["id"]) > 1400:
        raise CeremonyError("malformed", "That passkey response could not be read.")
    return credential


# --- registration -------------------------------------------------------------------------------------------


def registration_options(request: HttpRequest, user: User) -> dict[str, Any]:
    """Options for ``navigator.credentials.create``: a discoverable credential preferred (a passkey), the user's
    existing credentials excluded (no duplicate), no attestation (we trust no vendor list; see the docs)."""
    existing = WebAuthnDevice.objects.filter(user=user)
    options = generate_registration_options(
        rp_id=rp_id(request),
        rp_name=str(jeto_settings.SITE_NAME),
        user_name=user.email,
        user_id=user_handle(user),
        user_display_name=user.get_full_name() or user.email,
        timeout=_timeout_ms(),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=_descriptors(existing),
    )
    _remember(request, REGISTER, options.challenge, str(user.pk))
    data = json.loads(options_to_json(options))
    data["extensions"] = {"credProps": True}  # tells us whether the credential is discoverable
    return data


def clean_name(name: Any, user: User) -> str:
    text = " ".join(str(name or "").split())[:NAME_MAX]
    return text or f"Passkey {WebAuthnDevice.objects.filter(user=user).count() + 1}"


def register(request: HttpRequest, user: User, credential: Any, name: Any = "") -> WebAuthnDevice:
    """Verify the browser's attestation and store the credential (confirmed: it proved itself just now)."""
    challenge = _take(request, REGISTER, str(user.pk))
    data = _parse(credential)
    try:
        verified = verify_registration_response(
            credential=data,
            expected_challenge=challenge,
            expected_rp_id=rp_id(request),
            expected_origin=origins(request),
            require_user_verification=False,
        )
    except (InvalidRegistrationResponse, InvalidJSONStructure, WebAuthnException, ValueError, KeyError) as exc:
        logger.info("webauthn.register_refused user=%s reason=%s", user.pk, exc)
        raise CeremonyError("invalid", "Your passkey could not be registered. Try again.") from exc
    extensions = data.get("clientExtensionResults") or {}
    cred_props = extensions.get("credProps") if isinstance(extensions, dict) else None
    discoverable = bool(isinstance(cred_props, dict) and cred_props.get("rk") is True)
    response = data.get("response") or {}
    transports = [t for t in (response.get("transports") or []) if isinstance(t, str)][:8]
    try:
        with transaction.atomic():
            device = WebAuthnDevice.objects.create(
                user=user,
                name=clean_name(name, user),
                confirmed=True,
                credential_id=bytes_to_base64url(verified.credential_id),
                public_key=verified.credential_public_key,
                sign_count=verified.sign_count,
                transports=transports,
                aaguid=str(verified.aaguid or "")[:36],
                discoverable=discoverable,
                backed_up=bool(verified.credential_backed_up)
                or verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
            )
    except IntegrityError:
        raise CeremonyError("duplicate", "That passkey is already registered.") from None
    logger.info("webauthn.registered user=%s device=%s", user.pk, device.pk)
    signals.mfa_enabled.send(sender=User, user=user, device=device)
    return device


# --- authentication -----------------------------------------------------------------------------------------


def authentication_options(request: HttpRequest, purpose: str, user: User | None = None) -> dict[str, Any]:
    """Options for ``navigator.credentials.get``. Second factor: the user's credentials, verification preferred.
    Passwordless: any discoverable credential (the browser offers the user's passkeys), verification required."""
    if purpose == SECOND_FACTOR:
        assert user is not None
        allow = _descriptors(WebAuthnDevice.objects.filter(user=user, confirmed=True))
        verification = UserVerificationRequirement.PREFERRED
    else:
        allow, verification = [], UserVerificationRequirement.REQUIRED
    options = generate_authentication_options(
        rp_id=rp_id(request),
        timeout=_timeout_ms(),
        allow_credentials=allow,
        user_verification=verification,
    )
    data = json.loads(options_to_json(options))
    if purpose == PASSWORDLESS:
        data["jetoState"] = _signed_state(options.challenge)
    else:
        _remember(request, purpose, options.challenge, str(user.pk) if user is not None else None)
    return data


def credential_user(credential: Any) -> User | None:
    """The account whose credential this response names (for throttling by account), or None."""
    try:
        data = _parse(credential)
    except CeremonyError:
        return None
    device = WebAuthnDevice.objects.filter(credential_id=data["id"]).select_related("user").first()
    return device.user if device is not None else None


def authenticate(
    request: HttpRequest, purpose: str, credential: Any, user: User | None = None, state: Any = None
) -> Authenticated:
    """Verify an assertion. Second factor: ``user`` is the pending user and the credential must be theirs.
    Passwordless: ``state`` is the signed challenge the options carried (``jetoState``)."""
    if purpose == PASSWORDLESS:
        challenge = _take_signed(state)
    else:
        challenge = _take(request, purpose, str(user.pk) if user is not None else None)
    data = _parse(credential)
    with transaction.atomic():
        device = (
            WebAuthnDevice.objects.select_for_update()
            .select_related("user")
            .filter(credential_id=data["id"], confirmed=True)
            .first()
        )
        if device is None:
            raise CeremonyError("unknown_credential", "That passkey isn't registered here.")
        if user is not None and device.user_id != user.pk:
            raise CeremonyError("foreign_credential", "That passkey belongs to another account.")
        handle = (data.get("response") or {}).get("userHandle")
        if handle and handle != bytes_to_base64url(user_handle(device.user)):
            raise CeremonyError("foreign_credential", "That passkey belongs to another account.")
        if device.clone_warning:
            raise CeremonyError(
                "clone_warning", "This passkey was blocked as a possible copy. Remove it and add it again."
            )
        if not device.user.is_active:
            raise CeremonyError("inactive", "That account can't sign in.")
        try:
            verified = verify_authentication_response(
                credential=data,
                expected_challenge=challenge,
                expected_rp_id=rp_id(request),
                expected_origin=origins(request),
                credential_public_key=bytes(device.public_key),
                credential_current_sign_count=device.sign_count,
                require_user_verification=purpose == PASSWORDLESS,
            )
        except (InvalidAuthenticationResponse, InvalidJSONStructure, WebAuthnException, ValueError, KeyError) as exc:
            refusal = exc
        else:
            refusal = None
        if refusal is None:
            device.sign_count = verified.new_sign_count
            device.backed_up = bool(verified.credential_backed_up)
            device.last_used_at = timezone.now()
            device.save(update_fields=["sign_count", "backed_up", "last_used_at"])
    if refusal is not None:
        if "sign count" in str(refusal).lower():
            # WebAuthn 6.1.1: a counter that did not grow signals a possibly cloned authenticator. Flagged outside
            # the ceremony's transaction, so the refusal does not roll the flag back.
            WebAuthnDevice.objects.filter(pk=device.pk).update(clone_warning=True)
            signals.passkey_clone_warning.send(sender=User, user=device.user, device=device)
            logger.warning("webauthn.clone_warning user=%s device=%s", device.user_id, device.pk)
            raise CeremonyError("counter", "This passkey was blocked as a possible copy.") from refusal
        logger.info("webauthn.assertion_refused user=%s reason=%s", device.user_id, refusal)
        raise CeremonyError("invalid", "That passkey didn't work. Try again.") from refusal
    # Second factor: added to "pwd". Passwordless: the authenticator verified the user (PIN or biometric) on top
    # of possession, which is two factors in itself (NIST 800-63B multi-factor cryptographic authenticator).
    methods = [amr_for(device), "mfa"]
    return Authenticated(device=device, user=device.user, user_verified=verified.user_verified, amr=methods)


# --- management ---------------------------------------------------------------------------------------------


def passkeys(user: User) -> list[WebAuthnDevice]:
    return list(WebAuthnDevice.objects.filter(user=user, confirmed=True).order_by("created_at", "pk"))


def rename(user: User, device_id: int, name: Any) -> WebAuthnDevice | None:
    device = WebAuthnDevice.objects.filter(user=user, pk=device_id).first()
    if device is None:
        return None
    device.name = clean_name(name, user)
    device.save(update_fields=["name"])
    return device


def remove(user: User, device_id: int) -> bool:
    """Delete one of the user's passkeys (another user's id deletes nothing)."""
    device = WebAuthnDevice.objects.filter(user=user, pk=device_id).first()
    if device is None:
        return False
    device.delete()
    signals.mfa_removed.send(sender=User, user=user, devices=1)
    return True
