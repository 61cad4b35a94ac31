"""One object of every model registered in Django admin, owned by a given organisation: for tests that walk the
whole admin (editable fields, the "view on site" redirector). A model registered without a factory here fails
those tests, which is the point: a new admin page gets looked at before it ships."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

from django.contrib import admin
from django.contrib.auth.models import Group
from django.db.models import Model
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from oauth2_provider import models as dot

from jeto_identity.audit import services as audit
from jeto_identity.connections import services as clients
from jeto_identity.models import (
    ApplicationConnection,
    AuditEvent,
    FederatedIdentity,
    Invitation,
    Lockout,
    Membership,
    OAuthClient,
    Organization,
    OrganizationDomain,
    Plan,
    ProgrammeApplication,
    RelyingParty,
    SAMLConnection,
    ScimGroup,
    ScimToken,
    ScimUser,
    SSOConnection,
    User,
)
from jeto_identity.provisioning import tokens as scim_tokens


def registered_labels() -> set[str]:
    return {model._meta.label for model in admin.site._registry}


def change_url(obj: Model) -> str:
    return f"/admin/{obj._meta.app_label}/{obj._meta.model_name}/{obj.pk}/change/"


def add_url(obj: Model) -> str:
    return f"/admin/{obj._meta.app_label}/{obj._meta.model_name}/add/"


class Objects:
    """Builds, per model label, one object belonging to ``org`` (``member`` is one of its members)."""

    def __init__(self, org: Organization, member: User) -> None:
        self.org, self.member = org, member
        self.tag = uuid.uuid4().hex[:8]
        self._connection: ApplicationConnection | None = None
        self._sso: SSOConnection | None = None

    def build(self) -> dict[str, Model]:
        factories: dict[type[Model], Callable[[], Model]] = {
            Group: lambda: Group.objects.create(name=f"group-{self.tag}"),
            OAuthClient: lambda: OAuthClient.objects.get(pk=self.connection().pk),
            ApplicationConnection: self.connection,
            RelyingParty: self.relying_party,
            dot.get_access_token_model(): self.access_token,
            dot.get_refresh_token_model(): self.refresh_token,
            dot.get_id_token_model(): self.id_token,
            dot.get_grant_model(): self.grant,
            TOTPDevice: lambda: TOTPDevice.objects.create(user=self.member, name="phone", confirmed=True),
            StaticDevice: lambda: StaticDevice.objects.create(user=self.member, name="backup", confirmed=True),
            Organization: lambda: self.org,
            OrganizationDomain: lambda: self.org.domains.order_by("pk").first(),
            Membership: lambda: Membership.objects.get(user=self.member, organization=self.org),
            User: lambda: self.member,
            SSOConnection: self.sso,
            SAMLConnection: lambda: SAMLConnection.objects.create(
                organization=self.org,
                name=f"{self.org.name} SAML IdP",
                saml_idp_entity_id="https://idp.example/saml",
                saml_idp_sso_url="https://idp.example/saml/sso",
            ),
            FederatedIdentity: lambda: FederatedIdentity.objects.create(
                connection=self.sso(), subject=f"sub-{self.tag}", user=self.member, email=self.member.email
            ),
            Invitation: lambda: Invitation.objects.create(
                organization=self.org,
                email=f"invited-{self.tag}@partner.test",
                secret_hash=uuid.uuid4().hex,
                expires_at=timezone.now() + timedelta(days=1),
            ),
            ProgrammeApplication: lambda: ProgrammeApplication.objects.create(
                organization=self.org,
                purpose="p",
                contact_name="c",
                contact_email=f"c-{self.tag}@partner.test",
                expected_usage="u",
                terms_version="v",
                terms_accepted_at=timezone.now(),
            ),
            Plan: lambda: Plan.objects.get_or_create(
                organization=self.org, defaults={"sso": True, "mfa_policy": True, "api_clients": True, "scim": True}
            )[0],
            AuditEvent: lambda: audit.record(audit.POLICY_CHANGED, organization=self.org, subject=self.org.slug),
            ScimToken: lambda: ScimToken.objects.get(pk=scim_tokens.issue(self.org, f"idp-{self.tag}").token.pk),
            ScimUser: self.scim_user,
            ScimGroup: self.scim_group,
            Lockout: lambda: Lockout.objects.create(
                username=self.member.email,
                user=self.member,
                failures=5,
                locked_until=timezone.now() + timedelta(minutes=5),
            ),
        }
        return {model._meta.label: make() for model, make in factories.items()}

    def connection(self) -> ApplicationConnection:
        if self._connection is None:
            issued = clients.issue_client(organization=self.org, name=f"{self.org.name} CRM", scopes="org:read")
            self._connection = ApplicationConnection.objects.get(client_id=issued.client_id)
        return self._connection

    def scim_user(self) -> ScimUser:
        record = ScimUser.objects.filter(organization=self.org, user=self.member).first()
        return record or ScimUser.objects.create(organization=self.org, user=self.member, user_name=self.member.email)

    def scim_group(self) -> ScimGroup:
        group = ScimGroup.objects.create(organization=self.org, display_name=f"group-{self.tag}")
        group.members.add(self.scim_user())
        return group

    def relying_party(self) -> RelyingParty:
        return RelyingParty.objects.create(
            name=f"rp-{self.tag}",
            client_type=OAuthClient.CLIENT_PUBLIC,
            authorization_grant_type=OAuthClient.GRANT_AUTHORIZATION_CODE,
            redirect_uris="https://rp.example/callback",
            algorithm=OAuthClient.RS256_ALGORITHM,
        )

    def sso(self) -> SSOConnection:
        if self._sso is None:
            self._sso = SSOConnection.objects.create(
                organization=self.org, name=f"{self.org.name} IdP", issuer="https://idp.example", client_id="jeto"
            )
        return self._sso

    def _expiry(self):
        return timezone.now() + timedelta(hours=1)

    def access_token(self) -> Model:
        return dot.get_access_token_model().objects.create(
            user=self.member, application=self.connection(), token=f"at-{self.tag}", expires=self._expiry()
        )

    def refresh_token(self) -> Model:
        return dot.get_refresh_token_model().objects.create(
            user=self.member, application=self.connection(), token=f"rt-{self.tag}"
        )

    def id_token(self) -> Model:
        return dot.get_id_token_model().objects.create(
            user=self.member, application=self.connection(), expires=self._expiry()
        )

    def grant(self) -> Model:
        return dot.get_grant_model().objects.create(
            user=self.member,
            application=self.connection(),
            code=f"code-{self.tag}",
            expires=self._expiry(),
            redirect_uri="https://rp.example/callback",
        )
