"""Org-admin pages outside Django admin (named in the ``jeto_identity`` namespace)."""

from django.urls import path

from jeto_identity.orgadmin import views

urlpatterns = [
    path("invitations/<str:token>/", views.InvitationView.as_view(), name="invitation"),
]
