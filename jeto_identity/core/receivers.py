"""Membership receivers that send ``core.signals``; ``connect()`` is called from ``JetoIdentityConfig.ready``."""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from django.db.models.signals import post_delete, post_save

from jeto_identity.core import signals
from jeto_identity.core.organizations import Membership, forget_sign_in_organizations


def _related(instance: Model, name: str) -> Any:
    """The related object, without a query when it is loaded; None when it is gone (a cascade is deleting it)."""
    field = instance._meta.get_field(name)
    if field.is_cached(instance):
        return getattr(instance, name)
    return field.related_model._default_manager.filter(pk=getattr(instance, field.attname)).first()


def _kwargs(instance: Membership) -> dict[str, Any]:
    return {
        "membership": instance,
        "user": _related(instance, "user"),
        "organization": _related(instance, "organization"),
        "role": instance.role,
    }


def _membership_saved(sender: Any, instance: Membership, created: bool, raw: bool = False, **kwargs: Any) -> None:
    forget_sign_in_organizations()
    if created and not raw:
        signals.member_added.send(sender=Membership, **_kwargs(instance))


def _membership_deleted(sender: Any, instance: Membership, **kwargs: Any) -> None:
    forget_sign_in_organizations()
    signals.member_removed.send(sender=Membership, **_kwargs(instance))


def connect() -> None:
    post_save.connect(_membership_saved, sender=Membership, dispatch_uid="jeto_core_member_added")
    post_delete.connect(_membership_deleted, sender=Membership, dispatch_uid="jeto_core_member_removed")
