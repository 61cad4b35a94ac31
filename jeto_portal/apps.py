from django.apps import AppConfig


class JetoPortalConfig(AppConfig):
    name = "jeto_portal"
    verbose_name = "Jeto portal"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib import admin

        from jeto_identity.core import outage
        from jeto_portal.api import bearer

        bearer.connect_signals()  # the Jeto API's token cache forgets deleted tokens at once
        outage.answer_json_under("/api/")  # the Jeto API's 503 and 429 answers are JSON, like its other errors

        admin.site.site_header = "Jeto Identity admin"
        admin.site.site_title = "Jeto Identity"
        admin.site.index_title = "Organisations, people and connections"
