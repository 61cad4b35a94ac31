"""Security mail from the signals of other features; ``connect()`` is called from ``JetoIdentityConfig.ready``."""

from __future__ import annotations

from typing import Any

from jeto_identity.audit import services as audit
from jeto_identity.core import sessions
from jeto_identity.mfa import signals as mfa_signals
from jeto_identity.models import User, WebAuthnDevice
from jeto_identity.security import notifications


def _factor_added(sender: Any, user: User, device: Any, **kwargs: Any) -> None:
    is_passkey = isinstance(device, WebAuthnDevice)
    detail = f"passkey “{device.name}”" if is_passkey else "authenticator app"
    notifications.notify(user, notifications.FACTOR_ADDED, detail=detail, device_id=device.pk if is_passkey else None)


def _factor_removed(sender: Any, user: User, devices: int = 0, **kwargs: Any) -> None:
    audit.record(audit.MFA_REMOVED, actor=user, subject=user, organization=audit.organization_for(user), count=devices)
    notifications.notify(user, notifications.FACTOR_REMOVED)


def _factor_reset(sender: Any, user: User, actor: Any = None, devices: int = 0, **kwargs: Any) -> None:
    notifications.notify(user, notifications.FACTOR_REMOVED, detail="reset by an administrator")


def _clone_warning(sender: Any, user: User, device: Any, **kwargs: Any) -> None:
    audit.record(
        audit.PASSKEY_CLONE_WARNING,
        actor=user,
        subject=user,
        organization=audit.organization_for(user),
        outcome=audit.DENIED,
        device=device.name,
    )


def _session_started(sender: Any, session: Any, user: User, request: Any, new_device: bool, **kwargs: Any) -> None:
    if new_device and getattr(user, "notify_new_sign_ins", False):
        notifications.notify(user, notifications.NEW_SIGN_IN, request=request)


def connect() -> None:
    mfa_signals.mfa_enabled.connect(_factor_added, sender=User, dispatch_uid="jeto_security_factor_added")
    mfa_signals.mfa_removed.connect(_factor_removed, sender=User, dispatch_uid="jeto_security_factor_removed")
    mfa_signals.mfa_reset.connect(_factor_reset, sender=User, dispatch_uid="jeto_security_factor_reset")
    mfa_signals.passkey_clone_warning.connect(_clone_warning, sender=User, dispatch_uid="jeto_security_clone")
    sessions.session_started.connect(
        _session_started, sender=sessions.UserSession, dispatch_uid="jeto_security_new_sign_in"
    )
