"""Sign-in pages, the account page, password change and reset (named in the ``jeto_identity`` namespace)."""

from django.urls import path

from jeto_identity.login import account, views

urlpatterns = [
    path("login/", views.EmailStepView.as_view(), name="login"),
    path("login/password/", views.PasswordStepView.as_view(), name="login_password"),
    path("login/restart/", views.RestartView.as_view(), name="login_restart"),
    path("login/break-glass/", views.BreakGlassView.as_view(), name="login_break_glass"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("account/", account.account, name="account"),
    path("account/password/", account.PasswordChangeView.as_view(), name="password_change"),
    path("account/password/done/", account.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("password-reset/", account.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", account.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        account.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password-reset/complete/", account.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
]
