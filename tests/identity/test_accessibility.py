"""Every id an input's aria-describedby names exists on the page and holds the help text or the error.

Django renders `aria-describedby="id_X_helptext id_X_error"` on a field with help text or errors; if nothing on
the page carries those ids, a screen reader announces "invalid" without the reason (WCAG 1.3.1, 3.3.1).
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from ..conftest import sign_in
from .mfa_support import enrol

pytestmark = pytest.mark.django_db


class _Page(HTMLParser):
    """The text under each element with an id, and the aria-describedby of each form control."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: dict[str, str] = {}
        self.described: dict[str, list[str]] = {}  # control name -> ids it names
        self._open: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in {"input", "select", "textarea"} and attrs.get("aria-describedby"):
            self.described[attrs.get("name") or attrs.get("id") or tag] = attrs["aria-describedby"].split()
        element_id = attrs.get("id")
        if element_id is not None:
            assert element_id not in self.texts, f"duplicate id {element_id!r}"
            self.texts[element_id] = ""
        if tag not in self.VOID:
            self._open.append(element_id)

    def handle_endtag(self, tag):
        if tag not in self.VOID and self._open:
            self._open.pop()

    def handle_data(self, data):
        for element_id in self._open:
            if element_id is not None:
                self.texts[element_id] += data


def described_by(response) -> dict[str, str]:
    """control name -> the text of the elements its aria-describedby names; fails on an id that is missing."""
    page = _Page()
    page.feed(response.content.decode())
    assert page.described, "no control on the page has an aria-describedby"
    texts = {}
    for name, ids in page.described.items():
        missing = [i for i in ids if i not in page.texts]
        assert not missing, f"{name}: aria-describedby names {missing}, which nothing on the page carries"
        texts[name] = " ".join(" ".join(page.texts[i].split()) for i in ids)
    return texts


def test_email_step_error_describes_the_field(client):
    response = client.post("/login/", {"email": "not-an-email", "next": ""})
    assert response.status_code == 400
    assert "valid email address" in described_by(response)["email"]


def test_wrong_password_describes_the_password_field(client, acme_member):
    response = sign_in(client, acme_member.email, "not-the-password-at-all")
    assert response.status_code == 400
    assert "That email and password don't match" in described_by(response)["password"]


def test_password_change_describes_rules_and_errors(client, acme_member, password):
    sign_in(client, acme_member.email, password)
    response = client.post(
        "/account/password/", {"old_password": "wrong", "new_password1": "short", "new_password2": "other"}
    )
    assert response.status_code == 400
    texts = described_by(response)
    assert "incorrect" in texts["old_password"]
    # The password rules (help text) and the mismatch are both read with the new-password fields.
    assert "characters" in texts["new_password1"]
    assert "didn’t match" in texts["new_password2"] or "didn't match" in texts["new_password2"]


def test_mfa_challenge_describes_help_and_error(client, acme_member, password):
    enrol(acme_member)
    sign_in(client, acme_member.email, password)
    page = client.get("/login/mfa/")
    assert "6-digit code from your authenticator app" in described_by(page)["code"]
    wrong = client.post("/login/mfa/", {"code": "000000"})
    assert wrong.status_code == 400
    text = described_by(wrong)["code"]
    assert "6-digit code from your authenticator app" in text and "didn't work" in text
