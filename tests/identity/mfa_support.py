"""Helpers for the MFA tests: compute codes the way an authenticator app does, enrol users, sign in."""

from __future__ import annotations

import base64
import re
import time

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP

from jeto_identity.mfa import services as mfa
from tests.conftest import sign_in


def code_for_key(key: bytes, at: float | None = None, offset_steps: int = 0, digits: int = 6, step: int = 30) -> str:
    """What an authenticator app shows for ``key`` at ``at`` (now by default), ``offset_steps`` steps away."""
    totp = TOTP(key, step=step, digits=digits)
    totp.time = (time.time() if at is None else at) + offset_steps * step
    return f"{totp.token():0{digits}d}"


def code_for(device, at: float | None = None, offset_steps: int = 0) -> str:
    return code_for_key(device.bin_key, at, offset_steps, device.digits, device.step)


def key_from_manual_entry(text: str) -> bytes:
    secret = re.sub(r"\s", "", text).upper()
    return base64.b32decode(secret + "=" * (-len(secret) % 8))


def secret_from_page(html: str) -> bytes:
    match = re.search(r'data-testid="mfa-secret">([A-Z2-7 ]+)<', html)
    assert match, "no manual-entry key on the page"
    return key_from_manual_entry(match.group(1))


def enrol(user):
    """A confirmed authenticator + recovery codes, confirmed with the previous step's code (so now's code is free)."""
    device = mfa.start_enrolment(user)
    result, codes = mfa.confirm_enrolment(user, device.pk, code_for(device, offset_steps=-1))
    assert result.ok
    device.refresh_from_db()
    return device, codes


def sign_in_fully(client, user, device, password: str, next_url: str = ""):
    """Password, then the current code at the challenge; returns the challenge POST response."""
    response = sign_in(client, user.email, password, next_url)
    assert response.status_code == 302 and response.url == "/login/mfa/", response
    return client.post("/login/mfa/", {"code": code_for(device)})


def force_verified_login(client, user, device) -> None:
    """A signed-in session that passed the second factor (what the challenge leaves behind)."""
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def decode_qr_luminance(pixels: bytes, width: int, height: int) -> str:
    """Decode a grayscale (1 byte per pixel) image with zxing-cpp, the way a phone's scanner would."""
    import zxingcpp

    image = memoryview(pixels).cast("B", (height, width))
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(found) == 1, "expected exactly one QR code"
    return found[0].text


def rasterize_qr_svg(svg: str, scale: int = 4) -> tuple[bytes, int, int]:
    """Draw qrcode's SvgPathImage (one ``Mx,y...z`` square per dark module) as black-on-white pixels."""
    size = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg).group(1))
    dark = {(int(x), int(y)) for x, y in re.findall(r"M(\d+),(\d+)H", svg)}
    width = size * scale
    rows = bytearray()
    for py in range(width):
        for px in range(width):
            rows.append(0 if (px // scale, py // scale) in dark else 255)
    return bytes(rows), width, width
