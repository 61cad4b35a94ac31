"""SCIM 2.0 under ``scim/v2/`` (included by ``jeto_identity.urls``, namespace ``jeto_identity``)."""

from django.urls import path

from jeto_identity.provisioning import views

urlpatterns = [
    path("scim/v2/", views.not_found, name="scim-root"),
    path("scim/v2/.search", views.root_search, name="scim-search"),
    path("scim/v2/ServiceProviderConfig", views.service_provider_config, name="scim-spc"),
    path("scim/v2/ResourceTypes", views.resource_types, name="scim-resource-types"),
    path("scim/v2/ResourceTypes/<str:rid>", views.resource_types, name="scim-resource-type"),
    path("scim/v2/Schemas", views.schemas, name="scim-schemas"),
    path("scim/v2/Schemas/<str:sid>", views.schemas, name="scim-schema"),
    path("scim/v2/Users", views.users, name="scim-users"),
    path("scim/v2/Users/.search", views.users_search, name="scim-users-search"),
    path("scim/v2/Users/<str:uid>", views.user, name="scim-user"),
    path("scim/v2/Groups", views.groups, name="scim-groups"),
    path("scim/v2/Groups/.search", views.groups_search, name="scim-groups-search"),
    path("scim/v2/Groups/<str:gid>", views.group, name="scim-group"),
    path("scim/v2/Bulk", views.bulk, name="scim-bulk"),
    path("scim/v2/<path:rest>", views.not_found),
]
