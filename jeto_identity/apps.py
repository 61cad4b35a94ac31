from django.apps import AppConfig


class JetoIdentityConfig(AppConfig):
    name = "jeto_identity"
    verbose_name = "Jeto Identity"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.apps import apps

        from jeto_identity import checks  # noqa: F401  (registers the system checks)
        from jeto_identity.audit import receivers  # noqa: F401  (connects the audit receivers)
        from jeto_identity.login import services as login
        from jeto_identity.mfa import stage as mfa_login
        from jeto_identity.sso import services as sso

        login.register_stage(mfa_login.login_stage)
        login.register_stage(sso.link_confirmation_stage)  # after MFA: a link is made only after both factors
        login.register_email_router(sso.email_router)
        from jeto_identity.sso import signals as sso_signals

        sso_signals.connect()
        from jeto_identity.connections import bearer

        bearer.connect_signals()  # application connections: token-cache invalidation, disable => revoke
        if apps.is_installed("axes"):
            from axes.signals import user_locked_out

            from jeto_identity.throttle import services as throttle

            user_locked_out.connect(throttle.on_locked_out, dispatch_uid="jeto_lockouts")
