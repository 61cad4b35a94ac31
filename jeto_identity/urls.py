from django.urls import path

from jeto_identity.login import account
from jeto_identity.login import views as login
from jeto_identity.mfa import views as mfa
from jeto_identity.sso import views as sso_views

app_name = "jeto_identity"

urlpatterns = [
    path("login/", login.EmailStepView.as_view(), name="login"),
    path("login/password/", login.PasswordStepView.as_view(), name="login_password"),
    path("login/restart/", login.RestartView.as_view(), name="login_restart"),
    path("login/break-glass/", login.BreakGlassView.as_view(), name="login_break_glass"),
    path("sso/<uuid:connection_id>/start/", sso_views.SSOStartView.as_view(), name="sso_start"),
    path("sso/<uuid:connection_id>/callback/", sso_views.SSOCallbackView.as_view(), name="sso_callback"),
    path("sso/link/", sso_views.LinkConfirmView.as_view(), name="sso_link_confirm"),
    path("login/mfa/", mfa.ChallengeView.as_view(), name="mfa_challenge"),
    path("login/mfa/setup/", mfa.LoginSetupView.as_view(), name="mfa_login_setup"),
    path("logout/", login.LogoutView.as_view(), name="logout"),
    path("account/", account.account, name="account"),
    path("account/password/", account.PasswordChangeView.as_view(), name="password_change"),
    path("account/password/done/", account.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("account/mfa/setup/", mfa.AccountSetupView.as_view(), name="mfa_setup"),
    path("account/mfa/recovery-codes/", mfa.RecoveryCodesView.as_view(), name="mfa_recovery_codes"),
    path("account/mfa/recovery-codes/download/", mfa.download_recovery_codes, name="mfa_recovery_download"),
    path("account/mfa/recovery-codes/new/", mfa.RegenerateCodesView.as_view(), name="mfa_regenerate"),
    path("account/mfa/remove/", mfa.RemoveView.as_view(), name="mfa_remove"),
    path("account/confirm-password/", mfa.ReauthView.as_view(), name="mfa_reauth"),
    path("password-reset/", account.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", account.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        account.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password-reset/complete/", account.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
]
