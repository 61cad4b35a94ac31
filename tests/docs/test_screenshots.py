"""The help page's pictures come from tools/screenshots.py: it runs end to end, and the page shows each picture."""

from __future__ import annotations

import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs.site import DOCS, ROOT
from tests.requirements import missing
from tools import screenshots

PICTURES = DOCS / "images" / "sign-in"
HELP_PAGE = DOCS / "sign-in-help.md"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == PNG_SIGNATURE, f"{path.name} is not a PNG"
    return struct.unpack(">II", data[16:24])


def test_the_help_page_shows_every_committed_picture_and_nothing_else():
    committed = sorted(p.name for p in PICTURES.glob("*.png"))
    assert committed == sorted(screenshots.SHOTS)
    text = HELP_PAGE.read_text()
    shown = sorted(re.findall(r"\(images/sign-in/([^)]+)\)", text))
    assert shown == sorted(screenshots.SHOTS)
    assert "# How you can sign in to Jeto" in text


def test_the_committed_pictures_are_the_scripts():
    """Same viewport widths as the script takes them at (a hand-made picture would not be)."""
    for path in PICTURES.glob("*.png"):
        width, height = png_size(path)
        expected = screenshots.ADMIN_SIZE if path.name.startswith(("admin-", "sso-1-", "connections-")) else None
        assert width == (expected or screenshots.PAGE_SIZE)["width"], path.name
        assert height >= screenshots.PAGE_SIZE["height"]


@pytest.mark.slow
@pytest.mark.e2e
def test_the_screenshot_script_walks_every_way_in_and_writes_each_picture(tmp_path):
    if not Path(screenshots.CHROMIUM).exists():
        missing(f"the screenshot script needs Debian's chromium at {screenshots.CHROMIUM}: make browser")
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    result = subprocess.run(
        [sys.executable, "-m", "tools.screenshots", "--out", str(tmp_path / "pictures")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, f"{result.stdout[-3000:]}\n{result.stderr[-6000:]}"
    taken = sorted(p.name for p in (tmp_path / "pictures").glob("*.png"))
    assert taken == sorted(screenshots.SHOTS)
    for name in taken:
        path = tmp_path / "pictures" / name
        width, height = png_size(path)
        assert width >= screenshots.PAGE_SIZE["width"] and height >= screenshots.PAGE_SIZE["height"]
        assert path.stat().st_size > 10_000, f"{name} looks blank"
    assert f"{len(screenshots.SHOTS)} screenshots" in result.stdout
