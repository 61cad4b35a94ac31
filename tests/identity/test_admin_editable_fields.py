"""Which fields an org admin and an org owner can edit on every admin page they can open.

Every ModelAdmin registered in Django admin is walked: its add form and the change form of an object of the
signed-in person's own organisation. The editable fields (the form's fields minus read-only and disabled ones,
and those of each inline, for existing rows and for new ones) must equal the mapping below. A new field, a new
inline or a newly registered model therefore fails here until someone has decided it is safe to hand to an
org admin, and written that decision down.
"""

from __future__ import annotations

from typing import Any

import pytest

from jeto_identity.models import Role
from tests.conftest import sign_in
from tests.identity.admin_support import Objects, add_url, change_url, registered_labels

pytestmark = pytest.mark.django_db

NO_ACCESS = None  # the page answers 403 or 404
Sections = dict[str, list[str]]

# Pages an org admin cannot open at all, whatever their role.
_PLATFORM_ONLY: dict[str, dict[str, Sections | None]] = {
    label: {"add": NO_ACCESS, "change": NO_ACCESS}
    for label in (
        "auth.Group",
        "jeto_identity.OAuthClient",  # django-oauth-toolkit's own admin: Django model permissions, none granted
        "jeto_identity.Plan",  # set by platform admins; org admins read theirs on their organisation's page
        "jeto_identity.RelyingParty",
        "oauth2_provider.AccessToken",
        "oauth2_provider.Grant",
        "oauth2_provider.IDToken",
        "oauth2_provider.RefreshToken",
        "otp_static.StaticDevice",
        "otp_totp.TOTPDevice",
    )
}

_SYSTEM_RECORDS: dict[str, dict[str, Sections | None]] = {
    # Written by the system; viewable in scope, never edited.
    "jeto_identity.AuditEvent": {"add": NO_ACCESS, "change": {"form": []}},
    "jeto_identity.FederatedIdentity": {"add": NO_ACCESS, "change": {"form": []}},
    "jeto_identity.Lockout": {"add": NO_ACCESS, "change": {"form": []}},
    "jeto_identity.ScimUser": {"add": NO_ACCESS, "change": {"form": []}},
    "jeto_identity.ScimGroup": {"add": NO_ACCESS, "change": {"form": []}},
}


def _organization(form: list[str]) -> dict[str, Sections | None]:
    return {
        "add": NO_ACCESS,
        "change": {
            "form": form,
            "memberships existing": ["DELETE", "role", "user"],
            "memberships new": ["DELETE", "role", "user"],
            "domains existing": ["DELETE"],  # a verified name is a platform fact: neither renamed nor verified
            "domains new": ["DELETE", "domain"],  # added unverified
        },
    }


_SHARED: dict[str, dict[str, Sections | None]] = {
    **_PLATFORM_ONLY,
    **_SYSTEM_RECORDS,
    "jeto_identity.OrganizationDomain": {
        "add": {"form": ["domain", "organization"]},
        "change": {"form": []},
    },
    "jeto_identity.Membership": {
        "add": {"form": ["organization", "role", "user"]},
        "change": {"form": ["role", "user"]},  # never moved to another organisation
    },
    "jeto_identity.User": {
        "add": {"form": ["email", "first_name", "last_name", "organization", "role"]},
        # Not the email (the sign-in identifier), its verified flag, staff or superuser.
        "change": {"form": ["first_name", "is_active", "last_name"]},
    },
    # Sent, resent and revoked through the admin's actions; never edited.
    "jeto_identity.Invitation": {"add": {"form": ["email", "organization", "role"]}, "change": {"form": []}},
    # Org admins apply (accepting the terms shown); the application is then read-only (platform admins decide).
    "jeto_identity.ProgrammeApplication": {
        "add": {
            "form": [
                "accept_terms",
                "contact_email",
                "contact_name",
                "expected_usage",
                "organization",
                "purpose",
                "terms_version",
            ]
        },
        "change": {"form": []},
    },
    "jeto_identity.ScimToken": {
        "add": {"form": ["name", "organization"]},
        "change": {"form": ["name"]},  # the organisation is fixed; the token itself is never shown again
    },
    "jeto_identity.ApplicationConnection": {
        "add": {"form": ["access_token_lifetime", "description", "name", "organization", "scopes"]},
        "change": {"form": ["access_token_lifetime", "description", "enabled", "name", "scopes"]},
    },
}

_SSO_FIELDS = [
    "client_id",
    "client_secret",
    "default_role",
    "email_verified_claim",
    "enabled",
    "issuer",
    "jit_provisioning",
    "name",
    "role_claim",
    "role_mapping",
    "scopes",
]

_SAML_FIELDS = [
    "default_role",
    "enabled",
    "jit_provisioning",
    "metadata_file",
    "name",
    "role_claim",
    "role_mapping",
    "saml_allow_idp_initiated",
    "saml_allow_sha1",
    "saml_attribute_mapping",
    "saml_idp_certificates",
    "saml_idp_entity_id",
    "saml_idp_sso_url",
    "saml_metadata_url",
    "saml_metadata_xml",
    "saml_nameid_format",
    "saml_sign_requests",
    "saml_trust_email",
]

EXPECTED: dict[str, dict[str, dict[str, Sections | None]]] = {
    Role.ADMIN: {
        **_SHARED,
        # Not the slug. Enforce SSO (which refuses the owner's password sign-in and reset) and MFA after SSO
        # (whether the IdP alone signs the owner in) weigh on the owner: only an owner sets them.
        # The "phishing-resistant only" level is an MFA level, which admins set like "require MFA".
        "jeto_identity.Organization": _organization(
            ["mfa_required", "name", "phishing_resistant_grace_days", "phishing_resistant_only"]
        ),
        # Configuring the IdP decides who signs in as each member: an owner's power. Admins only look.
        "jeto_identity.SSOConnection": {"add": NO_ACCESS, "change": {"form": []}},
        "jeto_identity.SAMLConnection": {"add": NO_ACCESS, "change": {"form": []}},
    },
    Role.OWNER: {
        **_SHARED,
        "jeto_identity.Organization": _organization(
            [
                "mfa_after_sso",
                "mfa_required",
                "name",
                "phishing_resistant_grace_days",
                "phishing_resistant_only",
                "sso_enforced",
            ]
        ),
        "jeto_identity.SSOConnection": {
            "add": {"form": sorted(["connection_id", "organization", *_SSO_FIELDS])},
            "change": {"form": _SSO_FIELDS},  # the organisation is fixed once created
        },
        "jeto_identity.SAMLConnection": {
            "add": {"form": sorted(["connection_id", "organization", *_SAML_FIELDS])},
            "change": {"form": _SAML_FIELDS},
        },
    },
}


def _names(form: Any, skip: set[str]) -> list[str]:
    return sorted(name for name, field in form.fields.items() if name not in skip and not field.disabled)


def editable_fields(response: Any) -> Sections:
    """The editable fields of an admin add or change page, by section: the main form, then each inline."""
    adminform = response.context["adminform"]
    sections = {"form": _names(adminform.form, set(adminform.readonly_fields))}
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        skip = {*inline.readonly_fields, formset.fk.name, formset.model._meta.pk.name}
        existing = {name for form in formset.initial_forms for name in _names(form, skip)}
        if formset.initial_forms:
            sections[f"{formset.prefix} existing"] = sorted(existing)
        if inline.has_add_permission:
            sections[f"{formset.prefix} new"] = _names(formset.empty_form, skip)
    return sections


def page(client: Any, url: str) -> Sections | None:
    response = client.get(url)
    if response.status_code in (403, 404):
        return NO_ACCESS
    assert response.status_code == 200, (url, response.status_code)
    return editable_fields(response)


@pytest.fixture
def as_role(client, acme, acme_member, password, make_user):
    def _sign_in(role: Role) -> Any:
        person = make_user(f"{role}-person@acme.test", is_staff=True)
        acme.memberships.create(user=person, role=role)
        sign_in(client, person.email, password)
        return client

    return _sign_in


def test_every_registered_model_is_in_the_mapping():
    for role, mapping in EXPECTED.items():
        assert set(mapping) == registered_labels(), role


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OWNER])
def test_org_admins_edit_exactly_the_fields_in_the_mapping(as_role, acme, acme_member, role):
    client = as_role(role)
    objects = Objects(acme, acme_member).build()
    actual = {
        label: {"add": page(client, add_url(obj)), "change": page(client, change_url(obj))}
        for label, obj in objects.items()
    }
    assert set(actual) == registered_labels()
    expected = EXPECTED[role]
    wrong = {
        label: {"editable": fields, "expected": expected.get(label, "missing from the mapping")}
        for label, fields in sorted(actual.items())
        if fields != expected.get(label)
    }
    assert wrong == {}
