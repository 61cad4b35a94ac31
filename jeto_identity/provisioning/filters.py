"""SCIM filters (RFC 7644 §3.4.2.2) to Django queries, over the attributes we index.

scim2-models parses and validates the filter against the resource schema (``ScimFilter``); this module walks
the syntax tree it returns. Attributes we do not index answer 400 ``invalidFilter`` naming the attribute.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils.dateparse import parse_datetime
from scim2_models import InvalidFilterException, ScimFilter
from scim2_models.path import (
    AttrPath,
    CompareOperator,
    Comparison,
    LogicalExpr,
    LogicalOperator,
    Not,
    Present,
    ValuePath,
)

# attribute path (lower-cased) -> (ORM field, case-exact, kind)
USER_FIELDS: dict[str, tuple[str, bool, str]] = {
    "id": ("id", True, "uuid"),
    "username": ("user_name", False, "str"),
    "externalid": ("external_id", True, "str"),
    "displayname": ("display_name", False, "str"),
    "active": ("active", True, "bool"),
    "name.givenname": ("user__first_name", False, "str"),
    "name.familyname": ("user__last_name", False, "str"),
    "emails.value": ("email_values", False, "emails"),
    "emails": ("email_values", False, "emails"),
    "meta.created": ("created_at", True, "date"),
    "meta.lastmodified": ("updated_at", True, "date"),
}
GROUP_FIELDS: dict[str, tuple[str, bool, str]] = {
    "id": ("id", True, "uuid"),
    "displayname": ("display_name", False, "str"),
    "externalid": ("external_id", True, "str"),
    "members.value": ("members__id", True, "uuid"),
    "members": ("members__id", True, "uuid"),
    "meta.created": ("created_at", True, "date"),
    "meta.lastmodified": ("updated_at", True, "date"),
}

_STR_LOOKUPS = {
    CompareOperator.eq: "exact",
    CompareOperator.co: "contains",
    CompareOperator.sw: "startswith",
    CompareOperator.ew: "endswith",
}
_ORDER_LOOKUPS = {
    CompareOperator.gt: "gt",
    CompareOperator.ge: "gte",
    CompareOperator.lt: "lt",
    CompareOperator.le: "lte",
}
MAX_FILTER_LENGTH = 2000


def to_q(text: str, resource: str) -> Q:
    """The ``Q`` for filter ``text`` on ``resource`` ("User" or "Group"); ``InvalidFilterException`` if we cannot."""
    if len(text) > MAX_FILTER_LENGTH:
        raise InvalidFilterException(detail="The filter is too long.", filter=text[:100])
    try:
        node = ScimFilter(text).ast  # parsed only: the translator below knows which attributes it can query
    except Exception as exc:  # scim2-models raises its own exceptions (and ValueError) on a bad filter
        detail = getattr(exc, "detail", None) or str(exc)
        raise InvalidFilterException(detail=f"Invalid filter: {detail}"[:300], filter=text[:100]) from None
    fields = USER_FIELDS if resource == "User" else GROUP_FIELDS
    return _Translator(fields).visit(node, prefix=None)


class _Translator:
    def __init__(self, fields: dict[str, tuple[str, bool, str]]):
        self.fields = fields

    def visit(self, node: Any, prefix: str | None) -> Q:
        if isinstance(node, LogicalExpr):
            result = self.visit(node.terms[0], prefix)
            for term in node.terms[1:]:
                q = self.visit(term, prefix)
                result = result & q if node.op == LogicalOperator.and_ else result | q
            return result
        if isinstance(node, Not):
            return ~self.visit(node.expr, prefix)
        if isinstance(node, ValuePath):
            return self.visit(node.val_filter, prefix=str(node.attr_path.attr))
        if isinstance(node, Present):
            field, _, kind = self._field(node.attr_path, prefix)
            if kind in {"str", "emails"}:
                return Q(**{f"{field}__isnull": False}) & ~Q(**{field: ""})
            return Q(**{f"{field}__isnull": False})
        if isinstance(node, Comparison):
            return self._comparison(node, prefix)
        raise InvalidFilterException(detail="Unsupported filter expression.")

    def _field(self, path: AttrPath, prefix: str | None) -> tuple[str, bool, str]:
        name = f"{prefix}.{path.attr}" if prefix else (f"{path.attr}.{path.sub_attr}" if path.sub_attr else path.attr)
        try:
            return self.fields[name.lower()]
        except KeyError:
            supported = ", ".join(sorted({k for k in self.fields if k != "emails" and k != "members"}))
            raise InvalidFilterException(
                detail=f"Filtering on '{name}' is not supported. Supported attributes: {supported}."
            ) from None

    def _comparison(self, node: Comparison, prefix: str | None) -> Q:
        field, case_exact, kind = self._field(node.attr_path, prefix)
        op, value = node.op, node.value
        if kind == "bool":
            if op not in {CompareOperator.eq, CompareOperator.ne} or not isinstance(value, bool):
                raise InvalidFilterException(detail="Boolean attributes compare with eq or ne and true or false.")
            q = Q(**{field: value}) | (Q(**{f"{field}__isnull": True}) if value else Q(pk__in=[]))  # unset: active
            return ~q if op == CompareOperator.ne else q
        if kind == "uuid":
            if op not in {CompareOperator.eq, CompareOperator.ne}:
                raise InvalidFilterException(detail="Identifiers compare with eq or ne.")
            try:
                q = Q(**{field: uuid.UUID(str(value))})
            except ValueError:
                q = Q(pk__in=[])  # no resource has that id
            return ~q if op == CompareOperator.ne else q
        if kind == "date":
            if op not in _ORDER_LOOKUPS and op not in {CompareOperator.eq, CompareOperator.ne}:
                raise InvalidFilterException(detail="Dates compare with eq, ne, gt, ge, lt or le.")
            lookup = _ORDER_LOOKUPS.get(op, "exact")
            value = parse_datetime(value) if isinstance(value, str) else value if isinstance(value, datetime) else None
            if value is None:
                raise InvalidFilterException(detail=f"'{node.attr_path}' compares with a dateTime (RFC 3339).")
            q = Q(**{f"{field}__{lookup}": value})
            return ~q if op == CompareOperator.ne else q
        if not isinstance(value, str):
            raise InvalidFilterException(detail=f"'{node.attr_path}' compares with a string.")
        if kind == "emails":
            value = value.strip().lower()
            if op in {CompareOperator.eq, CompareOperator.ne}:
                q = Q(**{f"{field}__contains": f"\n{value}\n"})
            elif op == CompareOperator.co:
                q = Q(**{f"{field}__contains": value})
            elif op == CompareOperator.sw:
                q = Q(**{f"{field}__contains": f"\n{value}"})
            elif op == CompareOperator.ew:
                q = Q(**{f"{field}__contains": f"{value}\n"})
            else:
                raise InvalidFilterException(detail="Emails compare with eq, ne, co, sw or ew.")
            return ~q if op == CompareOperator.ne else q
        if op in _ORDER_LOOKUPS:
            q = Q(**{f"{field}__{_ORDER_LOOKUPS[op]}": value})
            return q
        lookup = _STR_LOOKUPS.get(op if op != CompareOperator.ne else CompareOperator.eq)
        if lookup is None:
            raise InvalidFilterException(detail=f"Operator {op} is not supported here.")
        if not case_exact:
            lookup = "i" + lookup
        q = Q(**{f"{field}__{lookup}": value})
        return ~q if op == CompareOperator.ne else q
