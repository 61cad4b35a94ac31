from django.urls import path

from . import views

app_name = "api"

urlpatterns = [
    path("organization", views.organization, name="organization"),
    path("members", views.members, name="members"),
    path("members/<uuid:user_id>", views.member_detail, name="member"),
    path("openapi.json", views.openapi, name="openapi"),
]
