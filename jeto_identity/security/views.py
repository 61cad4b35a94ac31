"""The account security page and its actions. Thin: parse, call ``security.services``, redirect."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from jeto_identity.core import sessions
from jeto_identity.mfa import services as mfa
from jeto_identity.mfa.webauthn import services as passkeys
from jeto_identity.security import services


@never_cache
@login_required
def security_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    current = sessions.current_session_id(request)
    rows = [
        {
            "id": str(s.pk),
            "browser": services.describe_user_agent(s.user_agent),
            "ip_address": s.ip_address,
            "created_at": s.created_at,
            "last_seen_at": s.last_seen_at,
            "current": str(s.pk) == current,
        }
        for s in sessions.active_sessions(user)
    ]
    rows.sort(key=lambda r: not r["current"])
    context = {
        "passkeys": passkeys.passkeys(user),
        "totp": mfa.confirmed_totp_device(user),
        "codes_left": mfa.recovery_codes_left(user),
        "has_mfa": mfa.has_mfa(user),
        "policy": mfa.phishing_resistant_policy(user),
        "required": mfa.mfa_required(user),
        "sessions": rows,
        "apps": services.connected_apps(user),
        "activity": [(e, services.event_label(e.event)) for e in services.recent_activity(user)],
    }
    return render(request, "jeto_identity/security/security.html", context)


@never_cache
@csrf_protect
@login_required
@require_POST
def end_session(request: HttpRequest, session_id: str) -> HttpResponse:
    if session_id == sessions.current_session_id(request):
        logout(request)
        messages.info(request, "You are signed out.")
        return redirect("jeto_identity:login")
    if services.end_one_session(request, session_id):
        messages.success(request, "That session is signed out.")
    else:
        messages.error(request, "That session had already ended.")
    return redirect("jeto_identity:account_security")


@never_cache
@csrf_protect
@login_required
@require_POST
def end_other_sessions(request: HttpRequest) -> HttpResponse:
    count = services.end_other_sessions(request)
    messages.success(request, f"Signed out everywhere else ({count} session{'s' if count != 1 else ''}).")
    return redirect("jeto_identity:account_security")


@never_cache
@csrf_protect
@login_required
@require_POST
def revoke_app(request: HttpRequest, client_id: str) -> HttpResponse:
    if services.revoke_app(request.user, client_id, request=request):
        messages.success(request, "Access revoked. The application must ask you again to sign you in.")
    else:
        messages.error(request, "That application had no access to revoke.")
    return redirect("jeto_identity:account_security")


@never_cache
@csrf_protect
@login_required
@require_POST
def notification_settings(request: HttpRequest) -> HttpResponse:
    request.user.notify_new_sign_ins = request.POST.get("notify_new_sign_ins") == "on"
    request.user.save(update_fields=["notify_new_sign_ins"])
    messages.success(request, "Your notification settings are saved.")
    return redirect("jeto_identity:account_security")


@method_decorator([never_cache, csrf_protect], name="dispatch")
class NotMeView(View):
    """The "this wasn't me" link from a security mail: confirm, then sign out everywhere and reset the password."""

    template_name = "jeto_identity/security/not_me.html"

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        found = services.read_not_me_token(token)
        return render(request, self.template_name, {"valid": found is not None}, status=200 if found else 400)

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        found = services.read_not_me_token(token)
        if found is None:
            return render(request, self.template_name, {"valid": False}, status=400)
        user, event, device_id = found
        services.secure_account(request, user, event, device_id)
        if request.user.is_authenticated:
            logout(request)
        messages.success(
            request,
            "Your account is signed out everywhere and no application has access. Choose a new password now.",
        )
        return redirect("jeto_identity:password_reset")
