"""The distribution installs into a brand-new Django project: build the wheel, install it, check and migrate."""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import textwrap
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

HOST_SETTINGS = textwrap.dedent(
    """
    SECRET_KEY = "host-project-test-key-0123456789abcdefghijklmnopqrstuvwxyz"
    DEBUG = False
    ALLOWED_HOSTS = ["localhost"]
    INSTALLED_APPS = [
        "django.contrib.admin",
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "django.contrib.messages",
        "django.contrib.staticfiles",
        "oauth2_provider",
        "django_otp",
        "django_otp.plugins.otp_totp",
        "django_otp.plugins.otp_static",
        "jeto_identity",
    ]
    MIDDLEWARE = [
        "django.middleware.security.SecurityMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django_otp.middleware.OTPMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "jeto_identity.mfa.middleware.MFAPolicyMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ]
    ROOT_URLCONF = "host.urls"
    TEMPLATES = [{
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": [
            "django.template.context_processors.request",
            "django.contrib.auth.context_processors.auth",
            "django.contrib.messages.context_processors.messages",
        ]},
    }]
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "host.sqlite3"}}
    AUTH_USER_MODEL = "jeto_identity.User"
    AUTHENTICATION_BACKENDS = [
        "jeto_identity.backends.EmailBackend",
        "jeto_identity.sso.oidc.backend.OrganizationOIDCBackend",
    ]
    OAUTH2_PROVIDER_APPLICATION_MODEL = "jeto_identity.OAuthClient"
    LOGIN_URL = "jeto_identity:login"
    STATIC_URL = "static/"
    USE_TZ = True
    DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
    """
)
HOST_URLS = textwrap.dedent(
    """
    from django.contrib import admin
    from django.urls import include, path

    urlpatterns = [path("admin/", admin.site.urls), path("", include("jeto_identity.urls"))]
    """
)


def _run(*args: str | Path, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result


def test_wheel_installs_into_a_fresh_host_project(tmp_path):
    # Build from a clean copy of the source: a stale build/ directory in the work tree must not leak into the wheel.
    source = tmp_path / "source"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "dist", "*.egg-info", "var", "staticfiles", "db.sqlite3", "__pycache__"
        ),
    )
    dist = tmp_path / "dist"
    _run(sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", dist, source, cwd=tmp_path)
    wheels = list(dist.glob("jeto_identity-*.whl"))
    assert len(wheels) == 1

    # A throwaway virtualenv. The wheel itself is installed for real; its dependencies are borrowed from this
    # test run's environment through a .pth file so the test needs no network.
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    _run(python, "-m", "pip", "install", "--no-deps", "--no-index", wheels[0], cwd=tmp_path)
    purelib = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path)
    deps = [p for p in site.getsitepackages() if Path(p).exists()]
    Path(purelib.stdout.strip(), "borrowed_deps.pth").write_text("\n".join(deps) + "\n")

    project = tmp_path / "project"
    (project / "host").mkdir(parents=True)
    (project / "host" / "__init__.py").write_text("")
    (project / "host" / "settings.py").write_text(HOST_SETTINGS)
    (project / "host" / "urls.py").write_text(HOST_URLS)
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "PYTHONPATH"}}
    env["DJANGO_SETTINGS_MODULE"] = "host.settings"

    where = _run(python, "-c", "import jeto_identity; print(jeto_identity.__file__)", cwd=project, env=env)
    assert str(env_dir) in where.stdout, "jeto_identity must come from the installed wheel, not the source tree"
    templates = Path(where.stdout.strip()).parent / "templates" / "jeto_identity" / "login_email.html"
    assert templates.exists(), "templates must ship in the wheel"

    _run(python, "-m", "django", "check", cwd=project, env=env)
    migrated = _run(python, "-m", "django", "migrate", "--noinput", cwd=project, env=env)
    assert "Applying jeto_identity.0001_initial... OK" in migrated.stdout
    _run(python, "-m", "django", "makemigrations", "--check", "--dry-run", cwd=project, env=env)
