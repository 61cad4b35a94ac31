"""SCIM 2.0 endpoints (RFC 7644): thin views over ``services``. Every request needs an organisation's token.

JSON in, ``application/scim+json`` out; every error is an RFC 7644 §3.12 error body with its status and
``scimType``, never a 500 page. Bad tokens count against the caller's address (django-axes, scope ``scim``); a
valid token is rate-limited per token (``SCIM_REQUESTS_PER_MINUTE``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from pydantic import ValidationError
from scim2_models import (
    Context,
    Error,
    InvalidSyntaxException,
    InvalidValueException,
    ListResponse,
    NotFoundException,
    ResponseParameters,
    SCIMException,
    SearchRequest,
)

from jeto_identity.conf import jeto_settings
from jeto_identity.provisioning import discovery, policy, services, tokens
from jeto_identity.provisioning.services import Caller, GroupResource, UserResource
from jeto_identity.throttle import services as throttle

CONTENT_TYPE = "application/scim+json"
MAX_BODY = 1024 * 1024
THROTTLE_SCOPE = "scim"


@functools.cache
def parametrized(generic: Any, model: Any) -> Any:
    """``generic[model]``, built once: parametrizing a scim2-models generic costs milliseconds each time."""
    return generic[model]


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(json.dumps(data), status=status, content_type=CONTENT_TYPE)
    response["Cache-Control"] = "no-store"
    for key, value in (headers or {}).items():
        response[key] = value
    return response


def error(
    status: int, detail: str, scim_type: str | None = None, headers: dict[str, str] | None = None
) -> HttpResponse:
    body = Error(status=status, scim_type=scim_type, detail=detail).model_dump()
    return _json(body, status=status, headers=headers)


def _from_exception(exc: SCIMException) -> HttpResponse:
    err = exc.to_error()
    return _json(err.model_dump(), status=int(err.status or 400))


def _from_validation(exc: ValidationError) -> HttpResponse:
    errors = Error.from_validation_errors(exc)
    first = errors[0] if errors else Error(status=400, scim_type="invalidValue", detail="Invalid request.")
    return _json(first.model_dump(), status=int(first.status or 400))


def base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("jeto_identity:scim-root")).rstrip("/")


def _bearer(request: HttpRequest) -> str:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def _throttle_key(presented: str) -> str:
    return presented[: len(tokens.TOKEN_PREFIX) + 4] if presented.startswith(tokens.TOKEN_PREFIX) else "-"


def _rate_limited(token_pk: int) -> bool:
    limit = int(jeto_settings.SCIM_REQUESTS_PER_MINUTE)
    if limit <= 0:
        return False
    key = f"jeto:scim:rate:{token_pk}"
    cache.add(key, 0, timeout=60)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=60)
        count = 1
    return count > limit


def _authenticate(request: HttpRequest) -> Caller | HttpResponse:
    presented = _bearer(request)
    key = _throttle_key(presented)
    try:
        throttle.check(request, THROTTLE_SCOPE, key)
    except throttle.Throttled:
        throttle.refused(request, THROTTLE_SCOPE, key)
        return error(429, "Too many failed attempts. Try again later.", headers={"Retry-After": "900"})
    token = tokens.authenticate(presented)
    if token is None:
        throttle.failed(request, THROTTLE_SCOPE, key)
        return error(401, "A valid SCIM bearer token is required.", headers={"WWW-Authenticate": 'Bearer realm="SCIM"'})
    if not policy.scim_allowed(token.organization):  # a valid token: not a guess to throttle
        return error(403, "This organisation's plan does not include SCIM provisioning.")
    if _rate_limited(token.pk):
        return error(429, "Too many requests for this token. Slow down.", headers={"Retry-After": "60"})
    return Caller(token=token, base_url=base_url(request))


def _body(request: HttpRequest) -> dict[str, Any]:
    if len(request.body) > MAX_BODY:
        raise _TooLarge()
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise InvalidSyntaxException(detail="The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise InvalidSyntaxException(detail="The request body must be a JSON object.")
    return data


class _TooLarge(Exception):
    pass


def scim_view(methods: set[str]) -> Callable:
    """Authenticate, dispatch ``methods``, and turn every SCIM or validation error into its RFC 7644 answer."""

    def decorate(func: Callable) -> Callable:
        @csrf_exempt
        def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            caller = _authenticate(request)
            if isinstance(caller, HttpResponse):
                return caller
            if request.method not in methods:
                return error(
                    405, f"{request.method} is not supported here.", headers={"Allow": ", ".join(sorted(methods))}
                )
            try:
                return func(request, caller, **kwargs)
            except SCIMException as exc:
                return _from_exception(exc)
            except ValidationError as exc:
                return _from_validation(exc)
            except (_TooLarge, RequestDataTooBig):
                return error(413, f"The request body is larger than {MAX_BODY} bytes.")

        return view

    return decorate


def _params(request: HttpRequest, model: type, search: SearchRequest | None = None) -> ResponseParameters:
    if search is not None:
        attributes, excluded = search.attributes, search.excluded_attributes
    else:
        attributes = request.GET.get("attributes") or None
        excluded = request.GET.get("excludedAttributes") or None
    return parametrized(ResponseParameters, model).model_validate(
        {"attributes": attributes, "excludedAttributes": excluded}
    )


def _int(value: Any, default: int | None) -> int | None:
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidValueException(detail=f"{value!r} is not an integer.") from None


def _dump(resource: Any, params: ResponseParameters | None = None, ctx: Context = Context.RESOURCE_QUERY_RESPONSE):
    return resource.model_dump(scim_ctx=ctx, response_parameters=params)


def _list(request: HttpRequest, caller: Caller, kind: str, search: SearchRequest | None = None) -> HttpResponse:
    model = UserResource if kind == "User" else GroupResource
    params = _params(request, model, search)
    if search is not None:
        filter_, start, count = (
            str(search.filter) if search.filter else None,
            search.start_index or 1,
            search.count,
        )
    else:
        filter_ = request.GET.get("filter") or None
        start, count = _int(request.GET.get("startIndex"), 1), _int(request.GET.get("count"), None)
    if kind == "User":
        rows, total = services.list_users(caller, filter=filter_, start_index=start, count=count)
        resources = [services.user_resource(caller, r) for r in rows]
    else:
        rows, total = services.list_groups(caller, filter=filter_, start_index=start, count=count)
        resources = [services.group_resource(caller, g) for g in rows]
    page = parametrized(ListResponse, model)(
        total_results=total, start_index=max(1, start or 1), items_per_page=len(resources), resources=resources
    )
    ctx = Context.SEARCH_RESPONSE if search is not None else Context.RESOURCE_QUERY_RESPONSE
    return _json(page.model_dump(scim_ctx=ctx, response_parameters=params))


# -- discovery ---------------------------------------------------------------------------------------------


@scim_view({"GET"})
def service_provider_config(request: HttpRequest, caller: Caller) -> HttpResponse:
    return _json(discovery.service_provider_config(caller.base_url))


def _listed(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": len(items),
        "startIndex": 1,
        "itemsPerPage": len(items),
        "Resources": items,
    }


@scim_view({"GET"})
def resource_types(request: HttpRequest, caller: Caller, rid: str | None = None) -> HttpResponse:
    items = discovery.resource_types(caller.base_url)
    if rid is None:
        return _json(_listed(items))
    for item in items:
        if item["id"] == rid:
            return _json(item)
    raise NotFoundException(detail=f"Resource type {rid} not found.")


@scim_view({"GET"})
def schemas(request: HttpRequest, caller: Caller, sid: str | None = None) -> HttpResponse:
    items = discovery.schemas(caller.base_url)
    if sid is None:
        return _json(_listed(items))
    for item in items:
        if item["id"] == sid:
            return _json(item)
    raise NotFoundException(detail=f"Schema {sid} not found.")


# -- Users and Groups --------------------------------------------------------------------------------------


@scim_view({"GET", "POST"})
def users(request: HttpRequest, caller: Caller) -> HttpResponse:
    if request.method == "GET":
        return _list(request, caller, "User")
    resource = UserResource.model_validate(_body(request), scim_ctx=Context.RESOURCE_CREATION_REQUEST)
    record = services.create_user(caller, resource)
    out = services.user_resource(caller, record)
    return _json(_dump(out, ctx=Context.RESOURCE_CREATION_RESPONSE), 201, {"Location": out.meta.location})


@scim_view({"GET", "PUT", "PATCH", "DELETE"})
def user(request: HttpRequest, caller: Caller, uid: str) -> HttpResponse:
    if request.method == "DELETE":
        services.delete_user(caller, uid)
        return HttpResponse(status=204)
    if request.method == "GET":
        params = _params(request, UserResource)
        return _json(_dump(services.user_resource(caller, services.get_user(caller, uid)), params))
    if request.method == "PUT":
        services.get_user(caller, uid)  # 404 before validating a body for someone else's id
        resource = UserResource.model_validate(_body(request), scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST)
        record = services.replace_user(caller, uid, resource)
        return _json(_dump(services.user_resource(caller, record), ctx=Context.RESOURCE_REPLACEMENT_RESPONSE))
    services.get_user(caller, uid)
    record = services.patch_user(caller, uid, _body(request))
    return _json(_dump(services.user_resource(caller, record), ctx=Context.RESOURCE_PATCH_RESPONSE))


@scim_view({"GET", "POST"})
def groups(request: HttpRequest, caller: Caller) -> HttpResponse:
    if request.method == "GET":
        return _list(request, caller, "Group")
    resource = GroupResource.model_validate(_body(request), scim_ctx=Context.RESOURCE_CREATION_REQUEST)
    group = services.create_group(caller, resource)
    out = services.group_resource(caller, group)
    return _json(_dump(out, ctx=Context.RESOURCE_CREATION_RESPONSE), 201, {"Location": out.meta.location})


@scim_view({"GET", "PUT", "PATCH", "DELETE"})
def group(request: HttpRequest, caller: Caller, gid: str) -> HttpResponse:
    if request.method == "DELETE":
        services.delete_group(caller, gid)
        return HttpResponse(status=204)
    if request.method == "GET":
        params = _params(request, GroupResource)
        return _json(_dump(services.group_resource(caller, services.get_group(caller, gid)), params))
    services.get_group(caller, gid)
    if request.method == "PUT":
        resource = GroupResource.model_validate(_body(request), scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST)
        grp = services.replace_group(caller, gid, resource)
        return _json(_dump(services.group_resource(caller, grp), ctx=Context.RESOURCE_REPLACEMENT_RESPONSE))
    grp = services.patch_group(caller, gid, _body(request))
    return _json(_dump(services.group_resource(caller, grp), ctx=Context.RESOURCE_PATCH_RESPONSE))


def _search(kind: str) -> Callable:
    @scim_view({"POST"})
    def view(request: HttpRequest, caller: Caller) -> HttpResponse:
        search = SearchRequest.model_validate(_body(request), scim_ctx=Context.SEARCH_REQUEST)
        return _list(request, caller, kind, search)

    return view


users_search = _search("User")
groups_search = _search("Group")


@scim_view({"POST"})
def root_search(request: HttpRequest, caller: Caller) -> HttpResponse:
    """POST /.search across Users and Groups (RFC 7644 §3.4.3): a filter naming an attribute one type lacks is
    false for that type."""
    search = SearchRequest.model_validate(_body(request), scim_ctx=Context.SEARCH_REQUEST)
    union = UserResource | GroupResource
    params = _params(request, union, search)
    filter_ = str(search.filter) if search.filter else None
    start, count = max(1, search.start_index or 1), search.count
    size = services.DEFAULT_COUNT if count is None else max(0, min(count, services.MAX_RESULTS))
    sources = []
    problem: SCIMException | None = None
    for lister, render in (
        (services.list_users, services.user_resource),
        (services.list_groups, services.group_resource),
    ):
        try:
            _rows, total = lister(caller, filter=filter_, start_index=1, count=0)
        except SCIMException as exc:
            problem = problem or exc
            continue
        sources.append((lister, render, total))
    if not sources and problem is not None:
        raise problem
    resources, offset = [], start - 1
    for lister, render, total in sources:
        if len(resources) >= size:
            break
        if offset >= total:
            offset -= total
            continue
        rows, _ = lister(caller, filter=filter_, start_index=offset + 1, count=size - len(resources))
        resources += [render(caller, row) for row in rows]
        offset = 0
    page = parametrized(ListResponse, union)(
        total_results=sum(t for _, _, t in sources),
        start_index=start,
        items_per_page=len(resources),
        resources=resources,
    )
    return _json(page.model_dump(scim_ctx=Context.SEARCH_RESPONSE, response_parameters=params))


@scim_view({"POST"})
def bulk(request: HttpRequest, caller: Caller) -> HttpResponse:
    return error(501, "Bulk operations are not supported (see ServiceProviderConfig).")


@scim_view({"GET", "POST", "PUT", "PATCH", "DELETE"})
def not_found(request: HttpRequest, caller: Caller, rest: str = "") -> HttpResponse:
    """The base URL and anything under it we do not serve: a SCIM 404, not an HTML page."""
    raise NotFoundException(detail="No such endpoint. Use /Users, /Groups or the discovery endpoints.")
