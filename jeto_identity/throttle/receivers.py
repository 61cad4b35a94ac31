"""django-axes' lockout signal feeds the lockout index and the audit log; ``connect()`` is called from
``JetoIdentityConfig.ready`` (only when axes is installed)."""

from __future__ import annotations

from django.apps import apps

# axes sends ``user_locked_out`` with the string "axes" as its sender (an interned literal: the ids match).
AXES_SENDER = "axes"


def connect() -> None:
    if not apps.is_installed("axes"):
        return
    from axes.signals import user_locked_out

    from jeto_identity.throttle.services import on_locked_out

    user_locked_out.connect(on_locked_out, sender=AXES_SENDER, dispatch_uid="jeto_lockouts")
