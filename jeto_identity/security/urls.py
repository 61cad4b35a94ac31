"""The account security page and its actions (named in the ``jeto_identity`` namespace)."""

from django.urls import path

from jeto_identity.security import views

urlpatterns = [
    path("account/security/", views.security_page, name="account_security"),
    path("account/sessions/<str:session_id>/end/", views.end_session, name="security_end_session"),
    path("account/sessions/end-others/", views.end_other_sessions, name="security_end_other_sessions"),
    path("account/apps/<str:client_id>/revoke/", views.revoke_app, name="security_revoke_app"),
    path("account/notifications/", views.notification_settings, name="security_notifications"),
    path("account/security/not-me/<str:token>/", views.NotMeView.as_view(), name="security_not_me"),
]
