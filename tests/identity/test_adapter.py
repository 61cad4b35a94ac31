"""A host changes behaviour through one adapter subclass (JETO_IDENTITY["ADAPTER"]) and settings-listed stages."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from oauthlib.common import Request

from jeto_identity.adapter import DefaultAdapter, get_adapter
from jeto_identity.core.mail import wait_for_pending
from jeto_identity.login import services as login_service
from jeto_identity.mfa import stage as mfa_stage
from jeto_identity.models import Membership, Role, User
from jeto_identity.provider import claims as claim_rules
from jeto_identity.provider.validators import JetoOAuth2Validator
from jeto_identity.sso import services as sso
from tests.sso_support import make_connection

HOST_ADAPTER = f"{__name__}.HostAdapter"
SENT: list[dict] = []


class HostAdapter(DefaultAdapter):
    """What a host project writes: each hook changed a little, the rest left to ``super()``."""

    def provision_user(self, connection, assertion):
        if "contractors" in (assertion.claims or {}).get("groups", []):
            raise sso.SSOLoginRefused("Contractors sign in with a password.", "contractor")
        user = super().provision_user(connection, assertion)
        user.first_name = user.first_name or "Provisioned"
        user.save(update_fields=["first_name"])
        return user

    def map_role(self, connection, claims):
        if "it-admins" in (claims or {}).get("groups", []):
            return Role.ADMIN
        if "broken" in (claims or {}).get("groups", []):
            return "superhero"
        return super().map_role(connection, claims)

    def claim_scopes(self, scopes):
        return {**scopes, "employee_number": "employee"}

    def populate_claims(self, user, claims):
        return {**claims, "employee_number": f"E-{user.email.split('@')[0]}"}

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email, **kwargs):
        SENT.append({"to": to_email, "template": email_template_name, "uid": context["uid"]})


def redirect_everyone(request, pending):
    """A host's email router: everyone at example.org goes to the host's own page."""
    return "/elsewhere/" if pending.email.endswith("@example.org") else None


@pytest.fixture
def host(settings):
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "ADAPTER": HOST_ADAPTER}
    SENT.clear()


@pytest.fixture
def jit(acme):
    return make_connection(acme, "https://idp.acme.test", jit_provisioning=True)


def claims(sub: str, email: str, **extra) -> dict:
    return {"sub": sub, "email": email, "email_verified": True, **extra}


def test_get_adapter_is_one_instance_until_the_settings_change(settings):
    assert type(get_adapter()) is DefaultAdapter and get_adapter() is get_adapter()
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "ADAPTER": HOST_ADAPTER}
    assert type(get_adapter()) is HostAdapter and get_adapter() is get_adapter()
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "ADAPTER": "no.such.Adapter"}
    with pytest.raises(ImproperlyConfigured, match="ADAPTER"):
        get_adapter()


def test_provisioning_hook_creates_or_refuses_the_jit_account(host, jit):
    user = sso.resolve_user(jit, claims("s-1", "new@acme.test"))
    assert user.first_name == "Provisioned" and user.email_verified
    assert Membership.objects.get(user=user).role == Role.MEMBER
    with pytest.raises(sso.SSOLoginRefused) as refused:
        sso.resolve_user(jit, claims("s-2", "temp@acme.test", groups=["contractors"]))
    assert refused.value.reason == "contractor"
    assert not User.objects.filter(email="temp@acme.test").exists()


def test_role_mapping_hook_decides_the_role_and_a_non_role_refuses(host, jit):
    user = sso.resolve_user(jit, claims("s-1", "boss@acme.test", groups=["it-admins"]))
    assert Membership.objects.get(user=user).role == Role.ADMIN
    with pytest.raises(sso.SSOLoginRefused) as refused:
        sso.resolve_user(jit, claims("s-2", "odd@acme.test", groups=["broken"]))
    assert refused.value.reason == "bad_role"
    assert not User.objects.filter(email="odd@acme.test").exists()


def test_claims_hook_adds_a_claim_released_by_its_own_scope(host, acme_member):
    assert "employee_number" in claim_rules.supported_claims()
    validator = JetoOAuth2Validator()
    request = Request("https://id.example.test/userinfo")
    request.user = acme_member
    request.scopes = ["openid", "email", "employee"]
    released = validator.get_oidc_claims(None, None, request)
    assert released["employee_number"] == "E-max" and released["email"] == "max@acme.test"
    request.scopes = ["openid", "email"]
    assert "employee_number" not in validator.get_oidc_claims(None, None, request)


def test_default_claims_are_unchanged(acme_member):
    assert "employee_number" not in claim_rules.supported_claims()
    assert dict(claim_rules.CLAIM_SCOPES) == claim_rules.BASE_CLAIM_SCOPES


def test_mail_hook_sends_the_password_reset(host, client, acme_member):
    client.post("/password-reset/", {"email": "max@acme.test"})
    wait_for_pending()
    assert mail.outbox == []
    assert [m["to"] for m in SENT] == ["max@acme.test"]
    assert SENT[0]["template"].endswith("password_reset.txt")


def test_a_failing_mail_hook_is_logged_not_raised_even_inline(settings, client, acme_member, caplog):
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "ADAPTER": f"{__name__}.BrokenMailAdapter"}
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "SEND_MAIL_IN_BACKGROUND": False}
    response = client.post("/password-reset/", {"email": "max@acme.test"})
    assert response.status_code == 302
    assert "Sending mail failed" in caplog.text


class BrokenMailAdapter(DefaultAdapter):
    def send_mail(self, *args, **kwargs):
        raise ConnectionRefusedError("smtp down")


# ---- the pipeline's stages and email routers come from settings ------------------------------------------------


def test_default_stages_run_mfa_before_the_link_confirmation():
    assert login_service.stages() == [mfa_stage.login_stage, sso.link_confirmation_stage]
    assert login_service.email_routers() == [sso.email_router]


def test_email_routers_from_settings(client, acme, settings):
    make_connection(acme, "https://idp.acme.test")
    assert client.post("/login/", {"email": "max@acme.test"}).url.startswith("/sso/")
    with override_settings(
        JETO_IDENTITY={**settings.JETO_IDENTITY, "EMAIL_ROUTERS": [f"{__name__}.redirect_everyone"]}
    ):
        assert client.post("/login/", {"email": "someone@example.org"}).url == "/elsewhere/"
        assert not client.post("/login/", {"email": "max@acme.test"}).url.startswith("/sso/")
    assert client.post("/login/", {"email": "max@acme.test"}).url.startswith("/sso/")


def test_a_hook_path_that_does_not_import_is_a_startup_error(settings):
    from jeto_identity.core.checks import check_hooks

    base = dict(settings.JETO_IDENTITY)
    assert check_hooks(None) == []
    settings.JETO_IDENTITY = {**base, "LOGIN_STAGES": ["jeto_identity.mfa.stage.no_such_stage"]}
    assert [e.id for e in check_hooks(None)] == ["jeto_identity.E008"]
    settings.JETO_IDENTITY = {**base, "ADAPTER": "jeto_identity.conf.JetoSettings"}
    assert [e.id for e in check_hooks(None)] == ["jeto_identity.E009"]
