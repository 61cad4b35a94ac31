"""Passkey pages and JSON endpoints (named in the ``jeto_identity`` namespace)."""

from django.urls import path

from jeto_identity.mfa.webauthn import views

urlpatterns = [
    path("login/passkey/options/", views.passwordless_options, name="passkey_login_options"),
    path("login/passkey/", views.passwordless, name="passkey_login"),
    path("login/mfa/passkey/options/", views.second_factor_options, name="passkey_challenge_options"),
    path("login/mfa/passkey/", views.second_factor, name="passkey_challenge"),
    path("login/mfa/passkey-setup/", views.LoginSetupView.as_view(), name="passkey_login_setup"),
    path("login/mfa/passkey-setup/options/", views.LoginSetupOptionsView.as_view(), name="passkey_login_setup_options"),
    path("login/mfa/passkey-setup/finish/", views.LoginSetupFinishView.as_view(), name="passkey_login_setup_finish"),
    path("account/passkeys/add/", views.AddView.as_view(), name="passkey_add"),
    path("account/passkeys/add/options/", views.register_options, name="passkey_register_options"),
    path("account/passkeys/add/finish/", views.register, name="passkey_register"),
    path("account/passkeys/<int:pk>/rename/", views.rename, name="passkey_rename"),
    path("account/passkeys/<int:pk>/remove/", views.RemoveView.as_view(), name="passkey_remove"),
]
