"""Receivers for application connections: disabling a client revokes its tokens, whatever path saved it.

Admin, shell or a service may untick ``enabled``; DOT already refuses a disabled client's tokens
(``OAuthClient.is_usable``), and deleting them means re-enabling the client does not bring them back.
``connect()`` is called from ``JetoIdentityConfig.ready``; every receiver has its ``sender``.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save

from jeto_identity.models import ApplicationConnection, OAuthClient


def revoke_tokens_of_disabled_client(sender: type, instance: OAuthClient, **kwargs: Any) -> None:
    if not instance.enabled:
        from jeto_identity.connections.services import revoke_tokens

        revoke_tokens(instance)


def connect() -> None:
    for model in (OAuthClient, ApplicationConnection):
        post_save.connect(
            revoke_tokens_of_disabled_client, sender=model, dispatch_uid=f"jeto_disabled_{model.__name__}"
        )
