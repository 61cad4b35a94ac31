"""The page an invited person opens to join an organisation (see ``jeto_identity.orgadmin.invitations``)."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from jeto_identity.models import Role
from jeto_identity.orgadmin import invitations

TEMPLATE = "jeto_identity/orgadmin/invitation.html"
ERROR_TEMPLATE = "jeto_identity/orgadmin/invitation_error.html"

INVALID = (
    "This invitation link is invalid, has expired, was already used or was withdrawn. "
    "Ask the organisation's administrator to invite you again."
)
WRONG_ACCOUNT = (
    "This invitation is for another email address. Sign out, then open the link again and sign in with the address "
    "the invitation was sent to."
)


class NewAccountForm(forms.Form):
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), strip=False)
    password2 = forms.CharField(
        label="Password again", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), strip=False
    )

    def __init__(self, *args, email: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password2"):
            self.add_error("password2", "The two passwords differ.")
        elif data.get("password"):
            from jeto_identity.models import User

            probe = User(email=self.email, first_name=data.get("first_name", ""), last_name=data.get("last_name", ""))
            try:
                password_validation.validate_password(data["password"], probe)
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return data


def _error(request: HttpRequest, title: str, message: str, status: int) -> HttpResponse:
    return render(request, ERROR_TEMPLATE, {"title": title, "message": message}, status=status)


@method_decorator([never_cache, csrf_protect], name="dispatch")
class InvitationView(View):
    """Signed in as the invited address: join. Signed out: set a password (no account), sign in (an account), or
    continue through the organisation's IdP (its domain routes there)."""

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            self.invitation = invitations.read_token(kwargs["token"])
        except invitations.InvalidInvitation:
            return _error(request, "This invitation can't be used", INVALID, 400)
        if request.user.is_authenticated and not invitations.is_for(request.user, self.invitation):
            return _error(request, "This invitation isn't yours", WRONG_ACCOUNT, 403)
        return super().dispatch(request, *args, **kwargs)

    def _context(self, request: HttpRequest, **extra) -> dict:
        return {
            "organization": self.invitation.organization,
            "email": self.invitation.email,
            "role": Role(self.invitation.role).label,
            **extra,
        }

    def _sign_in_url(self, request: HttpRequest, next_url: str = "") -> str:
        query = urlencode({"next": next_url or request.get_full_path(), "login_hint": self.invitation.email})
        return f"{reverse('jeto_identity:login')}?{query}"

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        if request.user.is_authenticated:
            return render(request, TEMPLATE, self._context(request, mode="join"))
        if invitations.sso_required(self.invitation):
            return render(request, TEMPLATE, self._context(request, mode="sso", sign_in_url=self._sign_in_url(request)))
        if invitations.account_exists(self.invitation):
            return render(
                request, TEMPLATE, self._context(request, mode="sign_in", sign_in_url=self._sign_in_url(request))
            )
        form = NewAccountForm(email=self.invitation.email)
        return render(request, TEMPLATE, self._context(request, mode="new", form=form))

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            if request.user.is_authenticated:
                joined = invitations.accept(request.user, self.invitation)
                return render(request, TEMPLATE, self._context(request, mode="done", joined=joined))
            if invitations.sso_required(self.invitation) or invitations.account_exists(self.invitation):
                return HttpResponseRedirect(self._sign_in_url(request))
            form = NewAccountForm(request.POST, email=self.invitation.email)
            if not form.is_valid():
                return render(request, TEMPLATE, self._context(request, mode="new", form=form), status=400)
            invitations.accept_new_account(
                self.invitation,
                password=form.cleaned_data["password"],
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
            )
        except invitations.InvalidInvitation:
            return _error(request, "This invitation can't be used", INVALID, 400)
        except PermissionDenied as exc:
            return _error(request, "This invitation can't be used here", str(exc) or INVALID, 403)
        # The account exists now: sign in through the ordinary pipeline (second factor, policies) to use it.
        return HttpResponseRedirect(self._sign_in_url(request, reverse("jeto_identity:account")))
