from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import PasswordChangeForm, PasswordResetForm, SetPasswordForm
from django.core.exceptions import ValidationError

from jeto_identity.core.users import normalize_email
from jeto_identity.models import User


class EmailStepForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username webauthn", "autofocus": True}),
    )

    def clean_email(self) -> str:
        return normalize_email(self.cleaned_data["email"])


class PasswordStepForm(forms.Form):
    """Step 2. ``authenticate`` is called with the password; any failure is one generic message."""

    GENERIC_FAILURE = "That email and password don't match. Check both and try again."

    password = forms.CharField(
        label="Password",
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )

    def __init__(self, *args, authenticate: Callable[[str], User | None] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._authenticate = authenticate
        self.user: User | None = None

    def clean(self) -> dict:
        data = super().clean()
        password = data.get("password")
        self.user = self._authenticate(password) if (password and self._authenticate) else None
        if self.user is None:
            self.errors.pop("password", None)
            raise ValidationError({"password": self.GENERIC_FAILURE})
        return data


class JetoPasswordChangeForm(PasswordChangeForm):
    """Django's form; new passwords go through AUTH_PASSWORD_VALIDATORS (length, blocklist, similarity)."""


class JetoSetPasswordForm(SetPasswordForm):
    def save(self, commit: bool = True):
        # Following a reset link proves control of the mailbox.
        self.user.email_verified = True
        return super().save(commit=commit)


class JetoPasswordResetForm(PasswordResetForm):
    def clean_email(self) -> str:
        from jeto_identity.sso import services as sso_service

        email = normalize_email(self.cleaned_data["email"])
        # Depends on the domain only (no account lookup): SSO-enforced domains have no password to reset.
        if sso_service.enforcing_organization(email) is not None:
            raise ValidationError(sso_service.sso_required_message(email), code="sso_required")
        return email

    def send_mail(self, *args, **kwargs) -> None:
        # Off the request path: the answer must take the same time whether or not an account matched. The
        # adapter's send_mail renders and sends it (a host may change how).
        from jeto_identity.core import mail

        mail.send_mail(*args, **kwargs)


__all__ = [
    "EmailStepForm",
    "JetoPasswordChangeForm",
    "JetoPasswordResetForm",
    "JetoSetPasswordForm",
    "PasswordStepForm",
    "password_validation",
]
