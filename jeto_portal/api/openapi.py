"""The OpenAPI 3.1 document of the Jeto API. ``tests/portal/test_api_openapi.py`` keeps it true."""

from __future__ import annotations

from typing import Any

from jeto_identity.connections.services import api_scopes

_ERROR = {"$ref": "#/components/schemas/Error"}


def _err(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": _ERROR}},
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
    }


def _json(description: str, ref: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": ref}}}}


AUTH_ERRORS = {
    "400": _err("Malformed Authorization header or parameters (invalid_request)."),
    "401": _err("No token, or the token is unknown, expired or revoked (invalid_token)."),
    "403": _err("The token lacks the scope this call needs (insufficient_scope)."),
}


def _member_id_param() -> dict[str, Any]:
    return {"name": "user_id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}


def document(server_url: str) -> dict[str, Any]:
    token_url = server_url.rsplit("/api/v1", 1)[0] + "/o/token/"
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Jeto API",
            "version": "1.0.0",
            "description": "Called by an application connection with a client-credentials access token. Every "
            "call sees only the organisation the token's client belongs to.",
        },
        "servers": [{"url": server_url}],
        "components": {
            "securitySchemes": {
                "applicationConnection": {
                    "type": "oauth2",
                    "description": "Exchange the connection's client ID and secret at the token endpoint "
                    "(client_secret_basic or client_secret_post), then send Authorization: Bearer <token>.",
                    "flows": {"clientCredentials": {"tokenUrl": token_url, "scopes": api_scopes()}},
                }
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "error_description"],
                    "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
                },
                "Organization": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["id", "slug", "name", "mfa_required", "sso_enforced", "created_at"],
                    "properties": {
                        "id": {"type": "integer"},
                        "slug": {"type": "string"},
                        "name": {"type": "string"},
                        "mfa_required": {"type": "boolean"},
                        "sso_enforced": {"type": "boolean"},
                        "created_at": {"type": "string", "format": "date-time"},
                    },
                },
                "Member": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["id", "email", "first_name", "last_name", "role", "is_active", "joined_at"],
                    "properties": {
                        "id": {"type": "string", "format": "uuid"},
                        "email": {"type": "string", "format": "email"},
                        "first_name": {"type": "string"},
                        "last_name": {"type": "string"},
                        "role": {"type": "string", "enum": ["owner", "admin", "member"]},
                        "is_active": {"type": "boolean"},
                        "joined_at": {"type": "string", "format": "date-time"},
                    },
                },
                "MemberPage": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["count", "limit", "offset", "results"],
                    "properties": {
                        "count": {"type": "integer", "minimum": 0},
                        "limit": {"type": "integer", "minimum": 1, "maximum": 200},
                        "offset": {"type": "integer", "minimum": 0},
                        "results": {"type": "array", "items": {"$ref": "#/components/schemas/Member"}},
                    },
                },
                "RoleChange": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["role"],
                    "properties": {"role": {"type": "string", "enum": ["admin", "member"]}},
                },
            },
        },
        "paths": {
            "/organization": {
                "get": {
                    "operationId": "getOrganization",
                    "summary": "The organisation the token belongs to.",
                    "security": [{"applicationConnection": ["org:read"]}],
                    "responses": {
                        "200": _json("The organisation.", "#/components/schemas/Organization"),
                        **AUTH_ERRORS,
                    },
                }
            },
            "/members": {
                "get": {
                    "operationId": "listMembers",
                    "summary": "The organisation's members, by email.",
                    "security": [{"applicationConnection": ["members:read"]}],
                    "parameters": [
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 200},
                        },
                        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                    ],
                    "responses": {
                        "200": _json("A page of members.", "#/components/schemas/MemberPage"),
                        **AUTH_ERRORS,
                    },
                }
            },
            "/members/{user_id}": {
                "get": {
                    "operationId": "getMember",
                    "summary": "One member of the organisation.",
                    "security": [{"applicationConnection": ["members:read"]}],
                    "parameters": [_member_id_param()],
                    "responses": {
                        "200": _json("The member.", "#/components/schemas/Member"),
                        **AUTH_ERRORS,
                        "404": _err("Not a member of this organisation."),
                    },
                },
                "patch": {
                    "operationId": "changeMemberRole",
                    "summary": "Make a member an admin, or an admin a member (owners are changed in the admin).",
                    "security": [{"applicationConnection": ["members:write"]}],
                    "parameters": [_member_id_param()],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RoleChange"}}},
                    },
                    "responses": {
                        "200": _json("The member, changed.", "#/components/schemas/Member"),
                        **AUTH_ERRORS,
                        "404": _err("Not a member of this organisation."),
                        "415": _err("The body is not application/json."),
                    },
                },
            },
        },
    }
