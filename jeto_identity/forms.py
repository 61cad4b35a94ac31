from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import PasswordChangeForm, PasswordResetForm, SetPasswordForm

from .models.users import normalize_email


class EmailStepForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )

    def clean_email(self) -> str:
        return normalize_email(self.cleaned_data["email"])


class PasswordStepForm(forms.Form):
    password = forms.CharField(
        label="Password",
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )


class JetoPasswordChangeForm(PasswordChangeForm):
    """Django's form; new passwords go through AUTH_PASSWORD_VALIDATORS (length, blocklist, similarity)."""


class JetoSetPasswordForm(SetPasswordForm):
    def save(self, commit: bool = True):
        # Following a reset link proves control of the mailbox.
        self.user.email_verified = True
        return super().save(commit=commit)


class JetoPasswordResetForm(PasswordResetForm):
    def clean_email(self) -> str:
        return normalize_email(self.cleaned_data["email"])


__all__ = [
    "EmailStepForm",
    "JetoPasswordChangeForm",
    "JetoPasswordResetForm",
    "JetoSetPasswordForm",
    "PasswordStepForm",
    "password_validation",
]
