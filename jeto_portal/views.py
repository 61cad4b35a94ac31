from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode

from jeto_identity.core.redirects import safe_next_url


def home(request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect(
        reverse("jeto_identity:account" if request.user.is_authenticated else "jeto_identity:login")
    )


def admin_login(request: HttpRequest) -> HttpResponse:
    """Admin sign-in goes through the same pipeline as everyone else (second factor included)."""
    next_url = safe_next_url(request.GET.get("next"), default=reverse("admin:index"))
    return HttpResponseRedirect(f"{reverse('jeto_identity:login')}?{urlencode({'next': next_url})}")
