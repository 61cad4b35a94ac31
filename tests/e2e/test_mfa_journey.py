"""Browser journeys for two-step verification: the person reads the key off the page like an authenticator app."""

import base64
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from tests.e2e.conftest import sign_in_with_password
from tests.identity.mfa_support import code_for_key, decode_qr_luminance, key_from_manual_entry

# Draw the page's inline SVG on a white canvas and hand back its grayscale pixels (what a phone camera sees).
RASTERIZE_QR = """async (svg) => {
  const size = 400;
  const img = new Image();
  const blob = new Blob([new XMLSerializer().serializeToString(svg)], {type: "image/svg+xml"});
  img.src = URL.createObjectURL(blob);
  await img.decode();
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = size;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, size, size);
  ctx.drawImage(img, 0, 0, size, size);
  const rgba = ctx.getImageData(0, 0, size, size).data;
  let lum = "";
  for (let i = 0; i < rgba.length; i += 4) lum += String.fromCharCode(rgba[i] < 128 ? 0 : 255);
  return {size, data: btoa(lum)};
}"""


def _scan_qr(page) -> str:
    image = page.get_by_test_id("mfa-qr").locator("svg").evaluate(RASTERIZE_QR)
    return decode_qr_luminance(base64.b64decode(image["data"]), image["size"], image["size"])


pytestmark = pytest.mark.e2e


def _enter_code(page, label: str, code: str, button: str) -> None:
    page.get_by_label(label).fill(code)
    page.get_by_role("button", name=button).click()


def test_enrol_from_account_sign_out_and_sign_in_with_a_fresh_code(page, acme_member, password):
    sign_in_with_password(page, "max@acme.test", password)
    page.wait_for_url("**/account/")
    page.get_by_role("link", name="Set up an authenticator app").click()
    page.wait_for_url("**/account/mfa/setup/")
    assert page.get_by_test_id("mfa-qr").locator("svg").is_visible()
    uri = urlsplit(_scan_qr(page))  # what an authenticator app reads from the camera
    params = {k: v[0] for k, v in parse_qs(uri.query).items()}
    assert (uri.scheme, uri.netloc, unquote(uri.path)) == ("otpauth", "totp", "/Jeto:max@acme.test")
    assert (params["issuer"], params["algorithm"], params["digits"], params["period"]) == ("Jeto", "SHA1", "6", "30")
    key = key_from_manual_entry(params["secret"])
    assert key == key_from_manual_entry(page.get_by_test_id("mfa-secret").inner_text())  # same as the typed key
    _enter_code(page, "Code from your app", code_for_key(key), "Verify and turn on")

    page.wait_for_url("**/account/mfa/recovery-codes/**")
    codes = page.get_by_test_id("recovery-codes").locator("li").all_inner_texts()
    assert len(codes) == 10
    page.get_by_role("button", name="I have saved my codes").click()
    page.wait_for_url("**/account/")
    assert page.get_by_test_id("recovery-codes-left").inner_text() == "10"

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login/")
    sign_in_with_password(page, "max@acme.test", password)
    page.wait_for_url("**/login/mfa/")
    page.goto("/account/")  # typing a protected URL with the password alone: back to sign-in
    assert "/login/" in page.url and "/account/" not in page.url.split("?")[0]
    page.goto("/login/mfa/")
    _enter_code(page, "Authentication code", code_for_key(key, offset_steps=1), "Verify")
    page.wait_for_url("**/account/")
    assert page.get_by_test_id("account-email").inner_text() == "max@acme.test"


def test_member_of_org_requiring_mfa_enrols_at_next_sign_in(page, acme, acme_member, password):
    acme.mfa_required = True
    acme.save()
    sign_in_with_password(page, "max@acme.test", password)
    page.wait_for_url("**/login/mfa/setup/")
    page.goto("/admin/")
    assert "/admin/login/" in page.url or "/login/" in page.url  # no way around it
    page.goto("/login/mfa/setup/")
    key = key_from_manual_entry(page.get_by_test_id("mfa-secret").inner_text())
    _enter_code(page, "Code from your app", code_for_key(key), "Verify and turn on")
    page.wait_for_url("**/account/mfa/recovery-codes/**")
    page.get_by_role("button", name="I have saved my codes").click()
    page.wait_for_url("**/account/")
    assert "on" in page.get_by_test_id("mfa-status").inner_text()
