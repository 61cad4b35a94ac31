"""A brand-new host project built the way docs/integrators.md tells a newcomer to build one.

The wheel is built from the repository's tracked files only; it is installed with pip, with its declared
dependencies and nothing else, into a virtualenv that sees neither the system's nor this test run's
site-packages. The project is ``django-admin startproject`` plus the code blocks of docs/integrators.md tagged
``python title="settings.py"`` (appended) and ``python title="urls.py"`` (the whole file), so the test fails when
the docs and the code drift apart.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import venv
from dataclasses import dataclass, field
from pathlib import Path

from tests.processes import ServerProcess, free_port
from tests.requirements import missing

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "integrators.md"
FENCE = re.compile(r'^```python title="(?P<title>[^"]+)"\n(?P<code>.*?)^```', re.M | re.S)
# Output of a pip that cannot reach the package registry (as opposed to a resolution error of ours).
OFFLINE = ("NewConnectionError", "Network is unreachable", "Temporary failure in name resolution", "Retrying (")


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: float = 900):
    """Run a command; a non-zero exit fails the test with its output."""
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    command = " ".join(map(str, args))
    assert result.returncode == 0, f"{command} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without anything that points Python at the development tree."""
    drop = {"DJANGO_SETTINGS_MODULE", "PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "DATABASE_URL", "REDIS_URL"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(PYTHONNOUSERSITE="1", PYTHONDONTWRITEBYTECODE="1", **extra)
    return env


def tracked_copy(dest: Path) -> Path:
    """Copy the files git tracks (as they are in the work tree) to ``dest``: no untracked or ignored file."""
    listing = run("git", "ls-files", "-z", cwd=ROOT).stdout
    for name in filter(None, listing.split("\0")):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


def build_wheel(workdir: Path) -> Path:
    source = tracked_copy(workdir / "source")
    dist = workdir / "dist"
    run(sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", dist, source, cwd=workdir)
    (wheel,) = dist.glob("jeto_identity-*.whl")
    return wheel


def create_venv(path: Path) -> Path:
    """A virtualenv with its own pip and no access to system or development site-packages."""
    venv.EnvBuilder(with_pip=True, system_site_packages=False, clear=True).create(path)
    return path / "bin" / "python"


def pip_install(python: Path, *requirements: str | Path, cwd: Path) -> float:
    """``pip install`` from the package registry, as a user would; returns the seconds it took."""
    started = time.monotonic()
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", *map(str, requirements)],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if result.returncode != 0:
        output = result.stdout + result.stderr
        if any(marker in output for marker in OFFLINE):
            missing(f"pip cannot reach the package registry:\n{output[-2000:]}")
        raise AssertionError(f"pip install failed:\n{output[-4000:]}")
    return time.monotonic() - started


def doc_blocks(text: str) -> dict[str, list[str]]:
    """The docs' code blocks by title (``settings.py``, ``urls.py``), in order."""
    blocks: dict[str, list[str]] = {}
    for match in FENCE.finditer(text):
        blocks.setdefault(match["title"], []).append(match["code"])
    return blocks


@dataclass
class HostProject:
    python: Path
    directory: Path
    env: dict[str, str] = field(default_factory=clean_env)

    def manage(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        return run(self.python, "manage.py", *args, cwd=self.directory, env={**self.env, **env}, timeout=300)

    def manage_may_fail(self, *args: str) -> subprocess.CompletedProcess:
        command = [str(self.python), "manage.py", *args]
        return subprocess.run(command, cwd=self.directory, env=self.env, capture_output=True, text=True, timeout=300)

    def shell(self, code: str) -> str:
        return self.manage("shell", "--no-imports", "-c", code).stdout


def start_project(python: Path, directory: Path, docs: str) -> HostProject:
    """``django-admin startproject host``, then the settings and URLs of docs/integrators.md."""
    blocks = doc_blocks(docs)
    assert blocks.get("settings.py") and blocks.get("urls.py"), "docs/integrators.md lost its settings/urls blocks"
    directory.mkdir(parents=True)
    run(python.parent / "django-admin", "startproject", "host", directory, cwd=directory, env=clean_env())
    settings = directory / "host" / "settings.py"
    added = "\n\n".join(blocks["settings.py"])
    settings.write_text(settings.read_text() + "\n\n# --- From docs/integrators.md ---\n" + added)
    (directory / "host" / "urls.py").write_text("\n\n".join(blocks["urls.py"]))
    return HostProject(python=python, directory=directory, env=clean_env(DJANGO_SETTINGS_MODULE="host.settings"))


class Runserver(ServerProcess):
    """``manage.py runserver`` on a free loopback port (no autoreloader), logging to a file."""

    def __init__(self, project: HostProject, **env: str) -> None:
        port = free_port()
        super().__init__(
            [str(project.python), "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            port=port,
            cwd=project.directory,
            env={**project.env, "JETO_ISSUER": f"http://127.0.0.1:{port}", **env},
            log_path=project.directory / f"runserver-{port}.log",
        )
