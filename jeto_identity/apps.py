from django.apps import AppConfig


class JetoIdentityConfig(AppConfig):
    name = "jeto_identity"
    verbose_name = "Jeto Identity"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Register the checks and connect every receiver: each feature's ``receivers.connect()``, with senders."""
        from django.core.signals import setting_changed

        from jeto_identity import (
            checks,  # noqa: F401  (registers the system checks)
            conf,
        )
        from jeto_identity.audit import receivers as audit_receivers
        from jeto_identity.core import receivers as core_receivers
        from jeto_identity.sso import receivers as sso_receivers
        from jeto_identity.throttle import receivers as throttle_receivers

        # Tests override JETO_IDENTITY; the sender is whichever override class changed it, so none is given.
        setting_changed.connect(conf.reload_on_setting_changed, dispatch_uid="jeto_identity_settings")
        core_receivers.connect()  # membership signals
        audit_receivers.connect()
        sso_receivers.connect()  # connection changes audited; repointing a connection drops its links
        throttle_receivers.connect()  # axes lockouts indexed and audited
        from jeto_identity.connections import receivers as connections_receivers

        connections_receivers.connect()  # disabling an application connection revokes its tokens
        from jeto_identity.orgadmin import receivers as orgadmin_receivers

        orgadmin_receivers.connect()  # plan changes audited; switching application connections off revokes tokens
        from jeto_identity.core import sessions
        from jeto_identity.security import receivers as security_receivers

        sessions.connect()  # every sign-in registers its session; a sign-out ends it
        security_receivers.connect()  # security mail: factor and password changes, sign-ins from new devices
