"""The documentation site as the tests see it: built with `mkdocs build --strict`, its pages and diagram sources."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
MERMAID_BLOCK = re.compile(r"^```mermaid\n(?P<source>.*?)^```", re.M | re.S)


def build(site_dir: Path, config: Path = ROOT / "mkdocs.yml") -> subprocess.CompletedProcess:
    """``mkdocs build --strict`` into ``site_dir`` (the same build as ``make docs``); returns the finished process."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    command = ["mkdocs", "build", "--strict", "--config-file", str(config), "--site-dir", str(site_dir)]
    return subprocess.run(
        [sys.executable, "-m", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def diagrams(page: Path) -> list[str]:
    """The Mermaid sources of a Markdown page, in order."""
    return [m["source"] for m in MERMAID_BLOCK.finditer(page.read_text())]


def pages_with_diagrams() -> dict[str, int]:
    """Page path relative to docs/ -> how many diagrams it has."""
    found = {str(p.relative_to(DOCS)): len(diagrams(p)) for p in sorted(DOCS.rglob("*.md"))}
    return {name: count for name, count in found.items() if count}
