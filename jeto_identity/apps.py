from django.apps import AppConfig


class JetoIdentityConfig(AppConfig):
    name = "jeto_identity"
    verbose_name = "Jeto Identity"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.apps import apps

        from . import checks, signals  # noqa: F401  (registers system checks and audit receivers)
        from .services import login, mfa_login, sso

        login.register_stage(mfa_login.login_stage)
        login.register_stage(sso.link_confirmation_stage)  # after MFA: a link is made only after both factors
        login.register_email_router(sso.email_router)
        from .sso import signals as sso_signals

        sso_signals.connect()
        from . import checks_clients  # noqa: F401  (application connections)
        from .services import bearer

        bearer.connect_signals()  # application connections: token-cache invalidation, disable => revoke
        if apps.is_installed("axes"):
            from axes.signals import user_locked_out

            from .services import throttle

            user_locked_out.connect(throttle.on_locked_out, dispatch_uid="jeto_lockouts")
