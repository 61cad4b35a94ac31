"""One wheel, one clean virtualenv and one host project per test session (building them is the slow part)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.packaging.host import DOCS, HostProject, Runserver, build_wheel, create_venv, pip_install, start_project

PASSWORD = "host-project passphrase 2024"
REDIRECT_URI = "https://rp.example.test/callback"
SUPERUSER = "root@example.test"
TIMINGS: dict[str, float] = {}


def _timed(label: str, started: float) -> None:
    TIMINGS[label] = time.monotonic() - started


def pytest_terminal_summary(terminalreporter) -> None:
    if TIMINGS:
        terminalreporter.write_sep("-", "host project timings")
        for label, seconds in TIMINGS.items():
            terminalreporter.write_line(f"{label:<36} {seconds:6.1f} s")


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    started = time.monotonic()
    built = build_wheel(tmp_path_factory.mktemp("wheel"))
    _timed("build the wheel", started)
    return built


@pytest.fixture(scope="session")
def host_python(wheel, tmp_path_factory) -> Path:
    """A fresh virtualenv holding the wheel and its declared dependencies, from the package registry."""
    started = time.monotonic()
    where = tmp_path_factory.mktemp("venv")
    python = create_venv(where / "venv")
    _timed("create the virtualenv", started)
    TIMINGS["pip install the wheel + dependencies"] = pip_install(python, wheel, cwd=where)
    return python


@pytest.fixture(scope="session")
def host_project(host_python, tmp_path_factory) -> HostProject:
    """``startproject`` + docs/integrators.md, migrated."""
    started = time.monotonic()
    project = start_project(host_python, tmp_path_factory.mktemp("host") / "mysite", DOCS.read_text())
    project.manage("migrate", "--noinput")
    _timed("startproject + migrate", started)
    return project


@dataclass
class HostData:
    user_id: str
    email: str
    member_id: str  # enrols in two-step verification during the tests
    member_email: str
    rp_client_id: str
    rp_client_secret: str
    api_client_id: str
    api_client_secret: str
    api_scope: str


@pytest.fixture(scope="session")
def host_data(host_project) -> HostData:
    """An organisation with a member, a relying party and an application connection, made with the app's
    management commands (the organisation and its member as an admin would, through the models)."""
    started = time.monotonic()
    user_id, member_id = host_project.shell(
        "from jeto_identity.models import Membership, Organization, OrganizationDomain, Role, User\n"
        "org = Organization.objects.create(name='Acme', slug='acme')\n"
        "OrganizationDomain.objects.create(organization=org, domain='acme.test', verified=True)\n"
        f"ada = User.objects.create_user(email='ada@acme.test', password={PASSWORD!r}, first_name='Ada')\n"
        "Membership.objects.create(user=ada, organization=org, role=Role.OWNER)\n"
        f"max = User.objects.create_user(email='max@acme.test', password={PASSWORD!r})\n"
        "Membership.objects.create(user=max, organization=org, role=Role.MEMBER)\n"
        "print(ada.pk, max.pk)\n"
    ).split()
    host_project.manage("createsuperuser", "--noinput", "--email", SUPERUSER, DJANGO_SUPERUSER_PASSWORD=PASSWORD)
    rp = json.loads(
        host_project.manage("createoidcclient", "--name", "Acme Wiki", "--redirect-uri", REDIRECT_URI).stdout
    )
    api_scope = host_project.shell("from django.conf import settings; print(*settings.JETO_IDENTITY['API_SCOPES'])")
    api_scope = api_scope.split()[0]  # the docs' example scope
    api = json.loads(
        host_project.manage("createapiclient", "--org", "acme", "--name", "Acme sync", "--scope", api_scope).stdout
    )
    _timed("users and clients (commands)", started)
    return HostData(
        user_id=user_id,
        email="ada@acme.test",
        member_id=member_id,
        member_email="max@acme.test",
        rp_client_id=rp["client_id"],
        rp_client_secret=rp["client_secret"],
        api_client_id=api["client_id"],
        api_client_secret=api["client_secret"],
        api_scope=api_scope,
    )


@pytest.fixture(scope="session")
def host_server(host_project, host_data) -> Iterator[Runserver]:
    started = time.monotonic()
    server = Runserver(host_project)
    try:
        server.wait_ready()
        _timed("runserver ready", started)
        yield server
    finally:
        server.stop()
