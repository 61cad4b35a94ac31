"""What the service provider announces (RFC 7644 §4): its configuration, resource types and schemas."""

from __future__ import annotations

from typing import Any

from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    Context,
    EnterpriseUser,
    ETag,
    Filter,
    Group,
    Meta,
    Mutability,
    Patch,
    ResourceType,
    ServiceProviderConfig,
    Sort,
    User,
)

from jeto_identity.provisioning.services import MAX_RESULTS, GroupResource, UserResource

DOCS = "https://github.com/jeto/jeto-identity/blob/main/docs/scim-admins.md"


def service_provider_config(base_url: str) -> dict[str, Any]:
    config = ServiceProviderConfig(
        documentation_uri=DOCS,
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_RESULTS),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=False),
        etag=ETag(supported=False),
        authentication_schemes=[
            AuthenticationScheme(
                type="oauthbearertoken",
                name="Bearer token",
                description="A per-organisation SCIM token, issued by an organisation admin in Django admin.",
                primary=True,
            )
        ],
    )
    config.meta = Meta(resource_type="ServiceProviderConfig", location=f"{base_url}/ServiceProviderConfig")
    return config.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)


def resource_types(base_url: str) -> list[dict[str, Any]]:
    out = []
    for model in (UserResource, GroupResource):
        resource_type = ResourceType.from_resource(model)
        resource_type.meta = Meta(resource_type="ResourceType", location=f"{base_url}/ResourceTypes/{resource_type.id}")
        out.append(resource_type.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))
    return out


def schemas(base_url: str) -> list[dict[str, Any]]:
    out = []
    for model in (User, Group, EnterpriseUser):
        schema = model.to_schema()
        if model is Group:
            _read_only_member_display(schema)
        schema.meta = Meta(resource_type="Schema", location=f"{base_url}/Schemas/{schema.id}")
        out.append(schema.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))
    return out


def _read_only_member_display(schema: Any) -> None:
    """A member's ``display`` is the user's name as we hold it, not something a client sets."""
    for attribute in schema.attributes or []:
        if attribute.name == "members":
            for sub in attribute.sub_attributes or []:
                if sub.name == "display":
                    sub.mutability = Mutability.read_only
