"""Screenshots of the real pages for docs/sign-in-help.md, taken by Debian's Chromium against the demo data.

    python -m tools.screenshots --out docs/images/sign-in      (what `make screenshots` runs)

It starts everything it needs and stops it afterwards: a scratch SQLite database (``migrate`` + ``seed_demo``), the
portal (``manage.py runserver``, DEBUG) on a free loopback port, and a real OpenID Connect IdP on loopback
(oidc-provider-mock) for the single-sign-on pictures. Then it walks each way in as a person would, waits for the
page it expects at each step (a broken journey fails the run instead of photographing an error page), and writes
one PNG per step under ``--out``. Nothing of the developer's own database, cache or keys is touched.
"""

from __future__ import annotations

import argparse
import base64
import logging
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("JETO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage", "--hide-scrollbars"]
DEMO_PASSWORD = "correct-horse-battery-staple"  # seed_demo's (jeto_portal/management/commands/seed_demo.py)
PAGE_SIZE = {"width": 960, "height": 680}
ADMIN_SIZE = {"width": 1200, "height": 760}

# Every picture the help page shows, in the order they are taken (the test checks the page uses each of them).
SHOTS = (
    "password-1-email.png",
    "password-2-password.png",
    "password-3-account.png",
    "mfa-1-setup.png",
    "mfa-2-recovery-codes.png",
    "mfa-3-challenge.png",
    "oidc-consent.png",
    "admin-organisation-policy.png",
    "sso-1-admin-connection.png",
    "sso-2-identity-provider.png",
    "sso-3-signed-in.png",
    "connections-1-add.png",
    "connections-2-secret.png",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def portal_env(workdir: Path) -> dict[str, str]:
    """A development portal on its own SQLite file, local-memory cache and key directory."""
    drop = {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "PYTHONPATH", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="true",
        DATABASE_URL=f"sqlite:///{workdir / 'db.sqlite3'}",
        OIDC_KEY_DIR=str(workdir / "oidc-keys"),
        JETO_SSO_ALLOW_LOCAL_IDPS="true",
        JETO_ADMIN_REQUIRES_MFA="false",
        LOG_LEVEL="WARNING",
    )
    return env


def manage(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


@contextmanager
def portal(env: dict[str, str], log_path: Path) -> Iterator[str]:
    """``runserver`` on a free loopback port; yields its base URL once it answers."""
    import requests

    port = free_port()
    with log_path.open("w") as log:
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--nothreading"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    raise SystemExit(f"the portal exited early:\n{log_path.read_text()[-4000:]}")
                try:
                    requests.get(url + "/login/", timeout=5)
                    break
                except requests.RequestException:
                    if time.monotonic() > deadline:
                        raise SystemExit(f"the portal did not answer:\n{log_path.read_text()[-4000:]}") from None
                    time.sleep(0.2)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


@dataclass
class Camera:
    """Saves a page's picture under ``out``; ``taken`` lists what it saved."""

    out: Path

    def __post_init__(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        self.taken: list[str] = []

    def shoot(self, page, name: str, *, full_page: bool = True) -> None:
        assert name in SHOTS, name
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(self.out / name), full_page=full_page, animations="disabled", caret="hide")
        self.taken.append(name)


def sign_in(page, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/login/password/")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def totp_code(manual_key: str) -> str:
    """What an authenticator app shows for the key printed under the QR code (django-otp's RFC 6238 code)."""
    from django_otp.oath import TOTP

    secret = re.sub(r"\s", "", manual_key).upper()
    totp = TOTP(base64.b32decode(secret + "=" * (-len(secret) % 8)), step=30, digits=6)
    return f"{totp.token():06d}"


def pkce_challenge() -> str:
    import hashlib
    import secrets

    verifier = secrets.token_urlsafe(48)
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


# --- the journeys --------------------------------------------------------------------------------------------


def password_and_mfa(browser, base_url: str, camera: Camera) -> None:
    """Max (an Acme member): email, password, account; sets up an authenticator; signs in again with a code."""
    context = browser.new_context(base_url=base_url, viewport=PAGE_SIZE)
    page = context.new_page()
    page.goto("/login/")
    page.get_by_label("Email address").fill("max@acme.test")
    camera.shoot(page, "password-1-email.png")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/login/password/")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    camera.shoot(page, "password-2-password.png")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/account/")
    camera.shoot(page, "password-3-account.png")

    page.get_by_role("link", name="Set up an authenticator app").click()
    page.wait_for_url("**/account/mfa/setup/")
    key = page.get_by_test_id("mfa-secret").inner_text()
    camera.shoot(page, "mfa-1-setup.png")
    page.get_by_label("Code from your app").fill(totp_code(key))
    page.get_by_role("button", name="Verify and turn on").click()
    page.wait_for_url("**/account/mfa/recovery-codes/**")
    codes = page.get_by_test_id("recovery-codes").locator("li").all_inner_texts()
    camera.shoot(page, "mfa-2-recovery-codes.png")
    page.get_by_role("button", name="I have saved my codes").click()
    page.wait_for_url("**/account/")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login/")

    # Signing in again through a relying party (the demo app): password, then the code, then the consent page.
    authorize = "/o/authorize/?" + urlencode(
        {
            "response_type": "code",
            "client_id": "jeto-demo-app",
            "redirect_uri": "http://localhost:8080/callback",
            "scope": "openid email profile",
            "state": "docs-screenshot",
            "nonce": "docs-screenshot",
            "code_challenge": pkce_challenge(),
            "code_challenge_method": "S256",
        }
    )
    page.goto(authorize)
    page.wait_for_url("**/login/?**")
    page.get_by_label("Email address").fill("max@acme.test")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/login/password/")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/login/mfa/")
    camera.shoot(page, "mfa-3-challenge.png")
    # A recovery code rather than the app's code: the app's current code was just used to enrol (codes work once).
    page.get_by_label("Authentication code").fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url("**/o/authorize/?**")
    page.goto(page.url)  # the same request again: the one-time "signed in with a recovery code" notice is gone
    page.get_by_role("button", name="Allow").wait_for()
    camera.shoot(page, "oidc-consent.png")
    context.close()


def organisation_policy(browser, base_url: str, camera: Camera) -> None:
    """Ada (Acme's owner) opens her organisation in Django admin: the policy flags."""
    context = browser.new_context(base_url=base_url, viewport=ADMIN_SIZE)
    page = context.new_page()
    sign_in(page, "ada@acme.test")
    page.wait_for_url("**/account/")
    page.goto("/admin/jeto_identity/organization/")
    page.get_by_role("link", name="Acme", exact=True).click()
    page.wait_for_url("**/change/")
    page.locator("input[name=mfa_required]").wait_for()
    camera.shoot(page, "admin-organisation-policy.png")
    context.close()


def single_sign_on(browser, base_url: str, idp_url: str, camera: Camera) -> None:
    """Gina (Globex's owner) connects Globex's IdP; Sam, new at Globex, signs in through it."""
    import requests

    context = browser.new_context(base_url=base_url, viewport=ADMIN_SIZE)
    page = context.new_page()
    sign_in(page, "gina@globex.test")
    page.wait_for_url("**/account/")
    page.goto("/admin/jeto_identity/ssoconnection/add/")
    page.locator("select[name=organization]").select_option(label="Globex")
    page.locator("input[name=name]").fill("Globex IdP")
    page.locator("input[name=issuer]").fill(idp_url)
    page.locator("input[name=client_id]").fill("jeto-portal")
    page.locator("input[name=client_secret]").fill("secret-issued-by-the-idp")
    camera.shoot(page, "sso-1-admin-connection.png")
    page.locator("input[name=_continue]").click()
    page.get_by_test_id("sso-test-connection").click()
    if "works" not in page.locator(".messagelist").inner_text():
        raise SystemExit("Test connection failed: " + page.locator(".messagelist").inner_text())
    page.locator("input[name=enabled]").check()
    page.locator("input[name=_continue]").click()
    context.close()

    response = requests.put(
        f"{idp_url}/users/globex-0042",
        json={"email": "sam@globex.test", "email_verified": True, "given_name": "Sam", "family_name": "Sawyer"},
        timeout=5,
    )
    response.raise_for_status()
    context = browser.new_context(base_url=base_url, viewport=PAGE_SIZE)
    page = context.new_page()
    page.goto("/login/")
    page.get_by_label("Email address").fill("sam@globex.test")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{idp_url}/oauth2/authorize?**")
    page.locator("input[name=sub]").fill("globex-0042")
    camera.shoot(page, "sso-2-identity-provider.png")
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url("**/account/")
    camera.shoot(page, "sso-3-signed-in.png")
    context.close()


def application_connection(browser, base_url: str, camera: Camera) -> None:
    """Ada issues an application connection; the secret page (the secret itself blurred in the picture)."""
    context = browser.new_context(base_url=base_url, viewport=ADMIN_SIZE)
    page = context.new_page()
    sign_in(page, "ada@acme.test")
    page.wait_for_url("**/account/")
    page.goto("/admin/jeto_identity/applicationconnection/add/")
    page.locator("input[name=name]").fill("Payroll sync")
    page.locator("select[name=organization]").select_option(label="Acme")
    page.locator("textarea[name=description]").fill("Nightly export of members to the payroll system.")
    page.locator("input[name=scopes][value='org:read']").check()
    page.locator("input[name=scopes][value='members:read']").check()
    camera.shoot(page, "connections-1-add.png")
    page.locator("input[name=_save]").click()
    page.locator("#client-secret").wait_for()
    # A picture is no place for a secret, even a throwaway one: blurred (CSSOM, which the pages' CSP allows).
    page.locator("#client-secret").evaluate("el => { el.style.filter = 'blur(5px)'; }")
    camera.shoot(page, "connections-2-secret.png")
    context.close()


def take(out: Path) -> list[str]:
    """Start the demo portal and an IdP, walk every way in, and write the pictures; returns their names."""
    import oidc_provider_mock
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise SystemExit(f"Debian's chromium is needed at {CHROMIUM}: run `make browser` (apt-get install chromium).")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the IdP's request log
    camera = Camera(out)
    with tempfile.TemporaryDirectory(prefix="jeto-screenshots-") as tmp:
        workdir = Path(tmp)
        env = portal_env(workdir)
        manage("migrate", "--noinput", env=env)
        manage("seed_demo", env=env)
        with (
            oidc_provider_mock.run_server_in_thread(require_nonce=True) as idp,
            portal(env, workdir / "portal.log") as base_url,
            sync_playwright() as playwright,
        ):
            idp_url = f"http://localhost:{idp.server_port}"
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                password_and_mfa(browser, base_url, camera)
                organisation_policy(browser, base_url, camera)
                single_sign_on(browser, base_url, idp_url, camera)
                application_connection(browser, base_url, camera)
            finally:
                browser.close()
    missing = [name for name in SHOTS if name not in camera.taken]
    if missing:
        raise SystemExit(f"pictures not taken: {missing}")
    return camera.taken


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images" / "sign-in", help="where the PNGs go")
    args = parser.parse_args(argv)
    taken = take(args.out.resolve())
    print(f"{len(taken)} screenshots in {args.out}:")
    for name in taken:
        print(f"  {name}")


if __name__ == "__main__":
    main()
