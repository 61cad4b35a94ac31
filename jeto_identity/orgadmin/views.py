"""The page an invited account opens to join an organisation (see ``jeto_identity.orgadmin.invitations``)."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from jeto_identity.models import Role
from jeto_identity.orgadmin import invitations

TEMPLATE = "jeto_identity/orgadmin/invitation.html"
ERROR_TEMPLATE = "jeto_identity/orgadmin/invitation_error.html"

INVALID = (
    "This invitation link is invalid, has expired, or no longer grants anything. "
    "Ask the organisation's administrator to invite you again."
)
WRONG_ACCOUNT = (
    "This invitation is for another account. Sign out, then sign in with the account the invitation was sent to."
)


def _error(request: HttpRequest, title: str, message: str, status: int) -> HttpResponse:
    return render(request, ERROR_TEMPLATE, {"title": title, "message": message}, status=status)


@method_decorator([never_cache, csrf_protect], name="dispatch")
class InvitationView(View):
    """GET asks "Join <organisation> as <role>?"; POST, by the invited account itself, creates the membership."""

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            self.invitation = invitations.read_token(kwargs["token"])
        except invitations.InvalidInvitation:
            return _error(request, "This invitation can't be used", INVALID, 400)
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if str(request.user.pk) != self.invitation.user_id:
            return _error(request, "This invitation isn't yours", WRONG_ACCOUNT, 403)
        return super().dispatch(request, *args, **kwargs)

    def _render(self, request: HttpRequest, **extra) -> HttpResponse:
        context = {
            "organization": self.invitation.organization,
            "role": Role(self.invitation.role).label,
            "already_member": invitations.is_member(request.user, self.invitation.organization),
            **extra,
        }
        return render(request, TEMPLATE, context)

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        return self._render(request)

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            joined = invitations.accept(request.user, self.invitation)
        except invitations.InvalidInvitation:
            return _error(request, "This invitation can't be used", INVALID, 400)
        return self._render(request, joined=joined, already_member=not joined, done=True)
