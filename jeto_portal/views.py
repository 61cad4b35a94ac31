from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse


def home(request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect(
        reverse("jeto_identity:account" if request.user.is_authenticated else "jeto_identity:login")
    )

