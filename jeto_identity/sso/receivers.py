"""Receivers for SSO connections: every change is audited, and repointing a connection drops its links.

A link is keyed on (connection, sub); a ``sub`` only means something at the IdP that issued it. When an admin
points a connection at another issuer or client, or (platform admins) at another organisation, the old links
would let the new IdP sign in as whoever the old one had linked, by asserting their ``sub``. So they go, and each
person links again under the current rules (confirming with their own credentials where those rules say so).
``connect()`` is called from ``JetoIdentityConfig.ready``; every receiver has its ``sender``.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save, pre_save

from jeto_identity.audit import services as audit
from jeto_identity.models import FederatedIdentity, SAMLConnection, SSOConnection

# Fields that say *which* IdP (and so whose ``sub`` or SAML NameID) a connection trusts.
IDENTITY_FIELDS = ("issuer", "client_id", "organization_id", "protocol", "saml_idp_entity_id")
AUDITED_FIELDS = (
    *IDENTITY_FIELDS,
    "name",
    "client_secret_encrypted",
    "scopes",
    "enabled",
    "jit_provisioning",
    "default_role",
    "email_verified_claim",
    "role_claim",
    "role_mapping",
    "saml_metadata_url",
    "saml_idp_sso_url",
    "saml_idp_certificates",
    "saml_sp_certificate",
    "saml_sign_requests",
    "saml_nameid_format",
    "saml_attribute_mapping",
    "saml_trust_email",
    "saml_allow_idp_initiated",
    "saml_allow_sha1",
)
_OLD = "_jeto_sso_old"


def _stash_old(sender: Any, instance: SSOConnection, **kwargs: Any) -> None:
    old = None
    if instance.pk and not instance._state.adding:
        old = SSOConnection._base_manager.filter(pk=instance.pk).values(*AUDITED_FIELDS).first()
    setattr(instance, _OLD, old)


def _record(event: str, connection: SSOConnection, **details: Any) -> None:
    audit.record(
        event, organization=connection.organization, subject=connection.name, connection=connection.name, **details
    )


def _idp(connection: SSOConnection) -> str:
    return connection.saml_idp_entity_id if connection.is_saml else connection.issuer


def _after_save(sender: Any, instance: SSOConnection, created: bool, **kwargs: Any) -> None:
    old = instance.__dict__.pop(_OLD, None)
    if created or old is None:
        _record(audit.SSO_CONNECTION_CHANGED, instance, reason="created", issuer=_idp(instance))
        return
    changed = [name for name in AUDITED_FIELDS if old[name] != getattr(instance, name)]
    if not changed:
        return
    # Names only: the secret's (encrypted) value never reaches the log.
    _record(audit.SSO_CONNECTION_CHANGED, instance, reason="changed", fields=changed, issuer=_idp(instance))
    repointed = sorted(set(changed) & set(IDENTITY_FIELDS))
    if repointed:
        removed, _ = FederatedIdentity.objects.filter(connection=instance).delete()
        if removed:
            _record(audit.SSO_LINKS_RESET, instance, count=removed, fields=repointed)


def _after_delete(sender: Any, instance: SSOConnection, **kwargs: Any) -> None:
    _record(audit.SSO_CONNECTION_CHANGED, instance, reason="deleted")


def connect() -> None:
    # A proxy model's saves are sent with the proxy as sender: SAML connections are connected on their own.
    for model in (SSOConnection, SAMLConnection):
        label = model._meta.model_name
        pre_save.connect(_stash_old, sender=model, dispatch_uid=f"jeto_sso_connection_pre_{label}")
        post_save.connect(_after_save, sender=model, dispatch_uid=f"jeto_sso_connection_post_{label}")
        post_delete.connect(_after_delete, sender=model, dispatch_uid=f"jeto_sso_connection_delete_{label}")
