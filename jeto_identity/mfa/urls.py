"""MFA pages: the sign-in challenge and enrolment, and the account's authenticator and recovery codes."""

from django.urls import path

from jeto_identity.mfa import views

urlpatterns = [
    path("login/mfa/", views.ChallengeView.as_view(), name="mfa_challenge"),
    path("login/mfa/setup/", views.LoginSetupView.as_view(), name="mfa_login_setup"),
    path("account/mfa/setup/", views.AccountSetupView.as_view(), name="mfa_setup"),
    path("account/mfa/recovery-codes/", views.RecoveryCodesView.as_view(), name="mfa_recovery_codes"),
    path("account/mfa/recovery-codes/download/", views.download_recovery_codes, name="mfa_recovery_download"),
    path("account/mfa/recovery-codes/new/", views.RegenerateCodesView.as_view(), name="mfa_regenerate"),
    path("account/mfa/remove/", views.RemoveView.as_view(), name="mfa_remove"),
    path("account/confirm-password/", views.ReauthView.as_view(), name="mfa_reauth"),
]
