"""The built documentation site in Chromium: every diagram renders to an SVG, offline (nothing fetched elsewhere)."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator

import pytest

from tests.docs.site import build, pages_with_diagrams

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# Material renders each diagram into a *closed* shadow root; the test opens them so it can look inside.
OPEN_SHADOW_ROOTS = """
const attach = Element.prototype.attachShadow;
Element.prototype.attachShadow = function (init) { return attach.call(this, {...init, mode: "open"}); };
"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site_url(tmp_path_factory) -> Iterator[str]:
    site = tmp_path_factory.mktemp("site")
    result = build(site)
    assert result.returncode == 0, result.stderr
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=site))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def site_page(browser, site_url):
    context = browser.new_context(base_url=site_url, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(20_000)
    context.add_init_script(OPEN_SHADOW_ROOTS)
    elsewhere: list[str] = []

    def only_this_site(route) -> None:
        if route.request.url.startswith(site_url):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    context.route("**/*", only_this_site)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page, elsewhere, errors
    context.close()


DIAGRAMS = pages_with_diagrams()


def test_there_is_a_diagram_for_each_way_in():
    assert {
        "flows/password-oidc.md",
        "flows/sso.md",
        "flows/saml.md",
        "flows/mfa.md",
        "flows/passkeys.md",
        "flows/application-connections.md",
        "flows/scim.md",
        "flows/account-security.md",
    } <= set(DIAGRAMS)


@pytest.mark.parametrize(("source", "count"), sorted(DIAGRAMS.items()), ids=sorted(DIAGRAMS))
def test_every_diagram_renders_to_an_svg(site_page, source, count):
    page, elsewhere, errors = site_page
    page.goto("/" + source.removesuffix(".md") + ".html")
    rendered = page.locator("div.mermaid svg")
    rendered.nth(count - 1).wait_for()  # Material swaps each <pre class="mermaid"> for a rendered diagram
    assert rendered.count() == count
    assert page.locator("pre.mermaid").count() == 0  # no diagram left as text (a syntax error leaves it)
    for index in range(count):
        svg = rendered.nth(index)
        assert svg.get_attribute("aria-roledescription") == "sequence"  # not Mermaid's "syntax error" picture
        box = svg.bounding_box()
        assert box and box["width"] > 300 and box["height"] > 200
        assert "Jeto" in svg.text_content()  # the participants are drawn
    assert elsewhere == []  # Mermaid came from the site itself, not a CDN
    assert errors == []


def test_search_works_offline(site_page):
    page, elsewhere, _errors = site_page
    page.goto("/index.html")
    page.locator("label.md-search__icon, .md-search__input").first.click()
    page.locator("input.md-search__input").press_sequentially("recovery codes", delay=20)  # as typed: keyup events
    page.locator(".md-search-result__item").first.wait_for()
    assert page.locator(".md-search-result__item").count() > 0
    assert elsewhere == []
