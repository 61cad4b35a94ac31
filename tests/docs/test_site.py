"""The documentation site builds strictly, offline, and its strict mode really catches what it should."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest
import yaml

from tests.docs.site import DOCS, ROOT, build, pages_with_diagrams

pytestmark = pytest.mark.slow

MERMAID = DOCS / "assets" / "javascripts" / "vendor" / "mermaid.min.js"
VENDOR_NOTE = MERMAID.with_name("VENDOR.txt")
# Anything the browser would fetch by itself while showing a page: scripts, stylesheets, fonts, preconnects, images.
FETCHED = re.compile(r"<(?:script|link|img|iframe|source)\b[^>]*\b(?:src|href)=\"(?P<url>[^\"]+)\"", re.I)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    site_dir = tmp_path_factory.mktemp("site")
    result = build(site_dir)
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}"
    assert "WARNING" not in result.stderr, result.stderr
    return site_dir


def test_the_site_builds_with_every_page(site):
    for page in DOCS.rglob("*.md"):
        built = site / page.relative_to(DOCS).with_suffix(".html")
        assert built.is_file(), f"{page.relative_to(DOCS)} was not built"
    assert (site / "search" / "search_index.json").is_file()  # offline search


def test_the_pages_fetch_nothing_from_another_site(site):
    """No CDN, no web font: every script, stylesheet and image the pages load is one of the site's own files."""
    pages = list(site.rglob("*.html"))
    assert len(pages) >= 20
    for page in pages:
        for match in FETCHED.finditer(page.read_text()):
            url = match["url"]
            assert not re.match(r"^(?:[a-z]+:)?//", url, re.I), f"{page.relative_to(site)} loads {url}"
            path = url.split("#")[0].split("?")[0]
            target = (site / path.lstrip("/") if path.startswith("/") else page.parent / path).resolve()
            assert target.is_file(), f"{page.relative_to(site)} loads {url}, which is not in the site"


def test_mermaid_is_served_by_the_site_before_the_theme_could_fetch_its_own(site):
    """Material fetches Mermaid from a CDN unless ``mermaid`` is already defined: our copy is on every diagram page."""
    for name in pages_with_diagrams():
        html = (site / name).with_suffix(".html").read_text()
        assert 'class="mermaid"' in html
        assert re.search(r'<script src="(\.\./)*assets/javascripts/vendor/mermaid\.min\.js"', html), name
    assert (site / "assets" / "javascripts" / "vendor" / "mermaid.min.js").stat().st_size > 1_000_000


def test_the_vendored_mermaid_is_the_pinned_release():
    note = VENDOR_NOTE.read_text()
    version = re.search(r"version (\d+\.\d+\.\d+)", note)[1]
    checksum = re.search(r"sha256 ([0-9a-f]{64})", note)[1]
    data = MERMAID.read_bytes()
    assert hashlib.sha256(data).hexdigest() == checksum
    assert f'version:"{version}"'.encode() in data
    assert version.split(".")[0] == "11"  # the major version Material for MkDocs 9 renders with
    assert (MERMAID.parent / "mermaid.LICENSE.txt").read_text().startswith("The MIT License")


def test_every_page_has_a_place_in_the_navigation():
    config = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=yaml.BaseLoader)

    def walk(items) -> list[str]:
        found = []
        for item in items:
            if isinstance(item, str):
                found.append(item)
            elif isinstance(item, dict):
                for value in item.values():
                    found += walk(value) if isinstance(value, list) else [value]
        return found

    in_nav = walk(config["nav"])
    pages = sorted(str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md"))
    assert sorted(set(in_nav)) == pages
    sections = [next(iter(item)) for item in config["nav"] if isinstance(item, dict)]
    for reader in (
        "End users",
        "Org admins",
        "Platform admins",
        "Integrators",
        "Relying-party and API developers",
        "Operators",
    ):
        assert reader in sections


def _copy_with(tmp_path: Path, page: str, text: str) -> Path:
    """A copy of the docs and mkdocs.yml with one page added; returns the copy's mkdocs.yml."""
    shutil.copytree(DOCS, tmp_path / "docs")
    (tmp_path / "docs" / page).write_text(text)
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    return tmp_path / "mkdocs.yml"


@pytest.mark.parametrize(
    ("text", "in_nav", "complaint"),
    [
        ("# Stray\n\nA page nobody can reach from the navigation.\n", False, 'not included in the "nav"'),
        ("# Broken\n\nSee [the missing page](missing.md).\n", True, "missing.md"),
        ("# Broken anchor\n\nSee [admins](admins.md#no-such-section).\n", True, "no-such-section"),
    ],
    ids=["page-missing-from-nav", "broken-link", "broken-anchor"],
)
def test_strict_mode_fails_the_build(tmp_path, text, in_nav, complaint):
    config = _copy_with(tmp_path, "extra-page.md", text)
    if in_nav:
        config.write_text(config.read_text().replace("  - Home: index.md\n", "  - Home: index.md\n  - extra-page.md\n"))
    result = build(tmp_path / "site", config=config)
    assert result.returncode != 0
    assert complaint in result.stderr
