"""A plan change is audited and applied in the transaction that saves it, whoever saves it (admin, programme)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save, pre_save

from jeto_identity.models import Organization, Plan
from jeto_identity.orgadmin import plans

_OLD = "_jeto_plan_old"


def _before(sender: Any, instance: Plan, **kwargs: Any) -> None:
    setattr(instance, _OLD, plans.entitlements(instance.organization_id) if instance.organization_id else None)


def _after(sender: Any, instance: Plan, created: bool, **kwargs: Any) -> None:
    old = instance.__dict__.pop(_OLD, None)
    _changed(instance.organization, old, plans._from_row(instance))


def _deleted(sender: Any, instance: Plan, **kwargs: Any) -> None:
    organization = Organization.objects.filter(pk=instance.organization_id).first()
    if organization is not None:  # not when the organisation itself is being deleted
        _changed(organization, plans._from_row(instance), plans.default_entitlements())


def _changed(organization: Organization, old: plans.Entitlements | None, new: plans.Entitlements) -> None:
    from jeto_identity.audit import services as audit

    old = old or plans.default_entitlements()
    changes: dict[str, list[Any]] = {
        f: [f in old.features, f in new.features] for f in plans.FEATURES if (f in old.features) != (f in new.features)
    }
    changes.update(
        {f"max_{c}": [old.caps.get(c), new.caps.get(c)] for c in plans.CAPS if old.caps.get(c) != new.caps.get(c)}
    )
    if not changes:
        return
    done = plans.apply_switch_off(organization, plans.switched_off(old, new))
    audit.record(audit.PLAN_CHANGED, organization=organization, subject=organization.name, changes=changes, **done)


def connect() -> None:
    pre_save.connect(_before, sender=Plan, dispatch_uid="jeto_plan_before")
    post_save.connect(_after, sender=Plan, dispatch_uid="jeto_plan_after")
    post_delete.connect(_deleted, sender=Plan, dispatch_uid="jeto_plan_deleted")
