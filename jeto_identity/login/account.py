"""The signed-in user's account pages and password change/reset (Django's views with our templates)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse_lazy

from jeto_identity.audit import services as audit
from jeto_identity.core import sessions
from jeto_identity.login.forms import JetoPasswordChangeForm, JetoPasswordResetForm, JetoSetPasswordForm
from jeto_identity.security import notifications


@login_required
def account(request: HttpRequest) -> HttpResponse:
    memberships = request.user.memberships.select_related("organization").order_by("organization__name")
    return render(request, "jeto_identity/login/account.html", {"memberships": memberships})


class InvalidFormIs400:
    """A rejected form re-renders with 400, not 200: malformed input is never a success status."""

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response


class PasswordChangeView(InvalidFormIs400, auth_views.PasswordChangeView):
    form_class = JetoPasswordChangeForm
    template_name = "jeto_identity/login/password_change.html"
    success_url = reverse_lazy("jeto_identity:password_change_done")

    def form_valid(self, form):
        response = super().form_valid(form)
        audit.record(audit.PASSWORD_CHANGED, request=self.request, subject=form.user)
        # Django's session hash already signs the other sessions out; the registry and their tokens follow.
        sessions.end_user_sessions(
            form.user, keep_session_key=self.request.session.session_key, reason="password_changed"
        )
        notifications.notify(form.user, notifications.PASSWORD_CHANGED, request=self.request)
        return response


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "jeto_identity/login/password_change_done.html"


class PasswordResetView(InvalidFormIs400, auth_views.PasswordResetView):
    form_class = JetoPasswordResetForm
    template_name = "jeto_identity/login/password_reset.html"
    email_template_name = "jeto_identity/login/email/password_reset.txt"
    subject_template_name = "jeto_identity/login/email/password_reset_subject.txt"
    success_url = reverse_lazy("jeto_identity:password_reset_done")

    def form_valid(self, form):
        response = super().form_valid(form)
        audit.record_password_reset_requested(self.request, form.cleaned_data["email"])
        return response


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "jeto_identity/login/password_reset_done.html"


class PasswordResetConfirmView(InvalidFormIs400, auth_views.PasswordResetConfirmView):
    form_class = JetoSetPasswordForm
    template_name = "jeto_identity/login/password_reset_confirm.html"
    success_url = reverse_lazy("jeto_identity:password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        audit.record(
            audit.PASSWORD_RESET_COMPLETED,
            request=self.request,
            subject=form.user,
            organization=audit.organization_for(form.user),
        )
        sessions.end_user_sessions(form.user, reason="password_reset")  # a reset may follow a compromise
        notifications.notify(form.user, notifications.PASSWORD_CHANGED, request=self.request)
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "jeto_identity/login/password_reset_complete.html"
