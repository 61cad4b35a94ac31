"""Jeto API views: thin, scoped to the organisation of the calling token (``request.api_token``)."""

from __future__ import annotations

import json
import uuid

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from jeto_identity.models import Membership, Role

from .auth import require_scope
from .openapi import document

MAX_LIMIT = 200
WRITABLE_ROLES = (Role.MEMBER, Role.ADMIN)


def _problem(status: int, error: str, description: str) -> JsonResponse:
    return JsonResponse({"error": error, "error_description": description}, status=status)


def _method_not_allowed(allowed: list[str]) -> HttpResponse:
    response = _problem(405, "method_not_allowed", f"Use {', '.join(allowed)}.")
    response["Allow"] = ", ".join(allowed)
    return response


_MEMBER_COLUMNS = (
    "user_id",
    "user__email",
    "user__first_name",
    "user__last_name",
    "role",
    "user__is_active",
    "created_at",
)


def _member_from_row(row: tuple) -> dict:
    user_id, email, first_name, last_name, role, is_active, joined_at = row
    return {
        "id": str(user_id),
        "email": email,
        "first_name": first_name,
        "last_name": last_name,
        "role": role,
        "is_active": is_active,
        "joined_at": joined_at.isoformat(),
    }


def member_document(m: Membership) -> dict:
    u = m.user
    return _member_from_row((u.pk, u.email, u.first_name, u.last_name, m.role, u.is_active, m.created_at))


@require_scope("org:read")
def _organization(request: HttpRequest) -> JsonResponse:
    # Read with the token and cached with it (api/bearer.py): within API_BEARER_CACHE_SECONDS of a change.
    org = request.api_token.organization
    return JsonResponse(
        {
            "id": org.id,
            "slug": org.slug,
            "name": org.name,
            "mfa_required": org.mfa_required,
            "sso_enforced": org.sso_enforced,
            "created_at": org.created_at.isoformat(),
        }
    )


@csrf_exempt
def organization(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return _method_not_allowed(["GET"])
    return _organization(request)


def _int_param(request: HttpRequest, name: str, default: int, lo: int, hi: int) -> int | None:
    raw = request.GET.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if lo <= value <= hi else None


@require_scope("members:read")
def _members(request: HttpRequest) -> JsonResponse:
    limit = _int_param(request, "limit", 50, 1, MAX_LIMIT)
    offset = _int_param(request, "offset", 0, 0, 10**9)
    if limit is None or offset is None:
        return _problem(400, "invalid_request", f"limit must be 1..{MAX_LIMIT} and offset >= 0.")
    return JsonResponse(members_page(request.api_token.organization_id, limit, offset))


def members_page(organization_id: int, limit: int, offset: int) -> dict:
    """One page of an organisation's members, ordered by email (two queries: the count and the page)."""
    qs = Membership.objects.filter(organization_id=organization_id)
    page = qs.order_by("user__email").values_list(*_MEMBER_COLUMNS)[offset : offset + limit]  # no model instances
    return {"count": qs.count(), "limit": limit, "offset": offset, "results": [_member_from_row(r) for r in page]}


@csrf_exempt
def members(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return _method_not_allowed(["GET"])
    return _members(request)


def _find_member(request: HttpRequest, user_id: uuid.UUID) -> Membership | None:
    return (
        Membership.objects.select_related("user")
        .filter(organization_id=request.api_token.organization_id, user_id=user_id)
        .first()
    )


@require_scope("members:read")
def _member_get(request: HttpRequest, user_id: uuid.UUID) -> JsonResponse:
    m = _find_member(request, user_id)
    if m is None:
        return _problem(404, "not_found", "No such member in this organisation.")
    return JsonResponse(member_document(m))


@require_scope("members:write")
def _member_patch(request: HttpRequest, user_id: uuid.UUID) -> JsonResponse:
    if request.content_type != "application/json":
        return _problem(415, "unsupported_media_type", "Send application/json.")
    try:
        data = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return _problem(400, "invalid_request", "The body is not valid JSON.")
    if not isinstance(data, dict) or set(data) != {"role"} or data["role"] not in WRITABLE_ROLES:
        return _problem(400, "invalid_request", 'Send {"role": "member"} or {"role": "admin"}.')
    with transaction.atomic():
        m = (
            Membership.objects.select_for_update()
            .select_related("user")
            .filter(organization_id=request.api_token.organization_id, user_id=user_id)
            .first()
        )
        if m is None:
            return _problem(404, "not_found", "No such member in this organisation.")
        if m.role == Role.OWNER:
            return _problem(403, "forbidden", "An owner's role can only be changed by an owner, in the admin.")
        if m.role != data["role"]:
            m.role = data["role"]
            m.save(update_fields=["role"])
    return JsonResponse(member_document(m))


@csrf_exempt
def member_detail(request: HttpRequest, user_id: uuid.UUID) -> HttpResponse:
    if request.method in ("GET", "HEAD"):
        return _member_get(request, user_id)
    if request.method == "PATCH":
        return _member_patch(request, user_id)
    return _method_not_allowed(["GET", "PATCH"])


def openapi(request: HttpRequest) -> JsonResponse:
    if request.method not in ("GET", "HEAD"):
        return _method_not_allowed(["GET"])
    return JsonResponse(document(request.build_absolute_uri("/api/v1")))
