from django.apps import AppConfig


class JetoIdentityConfig(AppConfig):
    name = "jeto_identity"
    verbose_name = "Jeto Identity"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers system checks)
        from .services import login, mfa_login, sso

        login.register_stage(mfa_login.login_stage)
        login.register_email_router(sso.email_router)
        from . import checks_clients  # noqa: F401  (application connections)
        from .services import bearer

        bearer.connect_signals()  # application connections: token-cache invalidation, disable => revoke
