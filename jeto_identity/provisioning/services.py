"""SCIM 2.0 Users and Groups of one organisation: the flows, free of HTTP.

Every function takes the :class:`Caller` (the organisation's token) and reaches only that organisation's
``ScimUser``/``ScimGroup`` rows: anything else is ``NotFoundException`` (404), whether it exists or not. The account
rules (who may be created, matched, changed) are in ``policy.py``. Each change is one transaction and one audit event
with ``via="SCIM"``; errors are scim2-models exceptions, which the views turn into RFC 7644 §3.12 error responses.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Prefetch, QuerySet
from scim2_models import (
    Context,
    EnterpriseUser,
    ForbiddenException,
    Group,
    GroupMember,
    InvalidValueException,
    Meta,
    NotFoundException,
    PatchOp,
    ScimFilter,
    UniquenessException,
    User,
)

from jeto_identity.audit import services as audit
from jeto_identity.core.organizations import Role
from jeto_identity.core.sessions import end_user_sessions
from jeto_identity.core.users import normalize_email
from jeto_identity.models import Membership, Organization
from jeto_identity.models import User as Account
from jeto_identity.provisioning import filters, policy
from jeto_identity.provisioning.models import ScimGroup, ScimToken, ScimUser

UserResource = User[EnterpriseUser]
GroupResource = Group
USER_PATCH = PatchOp[UserResource]
GROUP_PATCH = PatchOp[GroupResource]
MAX_RESULTS = 200
DEFAULT_COUNT = 100
# Columns of ScimUser and of the account: never kept in the ``attributes`` document.
OWNER_DETAIL = (
    "This person owns the organisation (or is a platform admin): SCIM never removes them. Change it in Jeto first."
)
_COLUMN_ATTRIBUTES = ("id", "meta", "groups", "password", "userName", "active", "externalId")


@dataclass(frozen=True)
class Caller:
    """Who is calling: an organisation's live token, and the base URL resources are located under."""

    token: ScimToken
    base_url: str

    @property
    def organization(self) -> Organization:
        return self.token.organization


def _audit(caller: Caller, event: str, subject: Any, outcome: str = audit.SUCCESS, **details: Any) -> None:
    audit.record(
        event,
        organization=caller.organization,
        subject=subject,
        outcome=outcome,
        via="SCIM",
        client_id=caller.token.prefix,
        client_name=caller.token.name,
        **details,
    )


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


# -- Users -------------------------------------------------------------------------------------------------


def users(caller: Caller) -> QuerySet[ScimUser]:
    """This organisation's provisioned users: the only rows any user function reads."""
    return (
        ScimUser.objects.filter(organization=caller.organization)
        .select_related("user")
        .prefetch_related(Prefetch("groups", queryset=ScimGroup.objects.only("id", "display_name")))
    )


def get_user(caller: Caller, scim_id: str) -> ScimUser:
    pk = _uuid(scim_id)
    record = users(caller).filter(pk=pk).first() if pk else None
    if record is None:
        raise NotFoundException(detail=f"User {scim_id} not found.")
    return record


def list_users(
    caller: Caller, *, filter: str | None = None, start_index: int = 1, count: int | None = None
) -> tuple[list[ScimUser], int]:
    qs = users(caller)
    if filter:
        qs = qs.filter(filters.to_q(filter, "User")).distinct()
    return _page(qs.order_by("created_at", "id"), start_index, count)


def _page(qs: QuerySet, start_index: int, count: int | None) -> tuple[list, int]:
    start = max(1, start_index or 1)
    size = DEFAULT_COUNT if count is None else max(0, min(count, MAX_RESULTS))
    total = qs.count()
    return (list(qs[start - 1 : start - 1 + size]) if size else []), total


def user_resource(caller: Caller, record: ScimUser) -> UserResource:
    """The SCIM representation: what the IdP sent, with the account's name and the organisation's groups."""
    data: dict[str, Any] = dict(record.attributes or {})
    account = record.user
    name = dict(data.get("name") or {})
    name["givenName"] = account.first_name or None
    name["familyName"] = account.last_name or None
    name = {k: v for k, v in name.items() if v not in (None, "")}
    data["name"] = name or None
    data.update(
        id=str(record.pk),
        userName=record.user_name,
        active=record.active,
        externalId=record.external_id or None,
        groups=[
            {
                "value": str(g.pk),
                "display": g.display_name,
                "$ref": f"{caller.base_url}/Groups/{g.pk}",
                "type": "direct",
            }
            for g in record.groups.all()
        ]
        or None,
    )
    resource = UserResource.model_validate({k: v for k, v in data.items() if v is not None})
    resource.meta = Meta(
        resource_type="User",
        created=record.created_at,
        last_modified=record.updated_at,
        location=f"{caller.base_url}/Users/{record.pk}",
    )
    return resource


def _stored_attributes(resource: UserResource) -> dict[str, Any]:
    data = resource.model_dump(scim_ctx=Context.DEFAULT)
    return {k: v for k, v in data.items() if k not in _COLUMN_ATTRIBUTES}


def _email_values(resource: UserResource, user_name: str) -> str:
    values = [normalize_email(str(e.value)) for e in (resource.emails or []) if e.value]
    return "\n" + "\n".join(dict.fromkeys([*values, user_name])) + "\n"


def _user_name(caller: Caller, resource: UserResource, domains: frozenset[str]) -> str:
    user_name = normalize_email(resource.user_name or "")
    if not user_name:
        raise InvalidValueException(detail="userName is required.")
    if not policy.in_verified_domain(caller.organization, user_name, domains=domains):
        raise InvalidValueException(
            detail=f"userName must be an email address in one of {caller.organization.name}'s verified domains."
        )
    return user_name


def _name(resource: UserResource) -> tuple[str, str]:
    name = resource.name
    given = (name.given_name if name else None) or ""
    family = (name.family_name if name else None) or ""
    return given.strip()[:150], family.strip()[:150]


def _refuse(caller: Caller, subject: str, reason: str) -> UniquenessException:
    _audit(caller, audit.SCIM_REFUSED, subject, outcome=audit.DENIED, reason=reason)
    return UniquenessException(
        detail="userName belongs to an account this organisation does not manage. "
        "Invite the person from the organisation's admin instead."
    )


def create_user(caller: Caller, resource: UserResource) -> ScimUser:
    """Provision a person: a new account, or an existing one the rules allow (policy.py); 409 otherwise."""
    org = caller.organization
    domains = policy.verified_domains(org)
    user_name = _user_name(caller, resource, domains)
    active = resource.active is not False
    stored_active = resource.active
    given, family = _name(resource)
    refused: str | None = None
    try:
        with transaction.atomic():
            if ScimUser.objects.filter(organization=org, user_name__iexact=user_name).exists():
                raise UniquenessException(detail=f"A user with userName {user_name} is already provisioned.")
            account = Account.objects.select_for_update().filter(email=user_name).first()
            if account is None:
                account = Account(email=user_name, first_name=given, last_name=family, is_active=active)
                account.set_unusable_password()
                account.save()
                Membership.objects.create(user=account, organization=org, role=Role.MEMBER)
                managed, how = True, "created"
            else:
                rows = policy.memberships(account)
                if policy.may_adopt(org, account, rows):
                    managed, how = True, "matched"
                    if not rows:
                        Membership.objects.create(user=account, organization=org, role=Role.MEMBER)
                    _set_profile(account, given, family, active)
                elif policy.may_link(org, account, rows):
                    managed, how = False, "linked"
                else:
                    refused = "other_organization"
                    raise UniquenessException(detail="refused")
                if ScimUser.objects.filter(organization=org, user=account).exists():
                    raise UniquenessException(detail=f"The account behind {user_name} is already provisioned.")
            record = ScimUser.objects.create(
                organization=org,
                user=account,
                user_name=user_name,
                external_id=resource.external_id or "",
                display_name=(resource.display_name or "")[:255],
                active=stored_active,
                managed=managed,
                attributes=_stored_attributes(resource),
                email_values=_email_values(resource, user_name),
            )
            _audit(caller, audit.SCIM_USER_CREATED, account, reason=how, fields=["active"] if not active else [])
            if not active and how != "created":  # an existing account provisioned as inactive: deprovisioned now
                if not managed and _untouchable(org, account):
                    raise ForbiddenException(detail=OWNER_DETAIL)
                _deactivate(caller, record, managed)
    except IntegrityError:
        raise UniquenessException(detail=f"A user with userName {user_name} is already provisioned.") from None
    except UniquenessException:
        if refused:
            raise _refuse(caller, user_name, refused) from None
        raise
    return get_user(caller, str(record.pk))


def _set_profile(account: Account, given: str, family: str, active: bool) -> list[str]:
    changed = []
    for attr, value in (("first_name", given), ("last_name", family), ("is_active", active)):
        if getattr(account, attr) != value:
            setattr(account, attr, value)
            changed.append(attr)
    if changed:
        account.save(update_fields=changed)
    return changed


def controls_account(caller: Caller, record: ScimUser) -> bool:
    """Does SCIM keep this account's profile and active flag? Re-checked at every write (roles change)."""
    return record.managed and policy.may_adopt(caller.organization, record.user)


def replace_user(caller: Caller, scim_id: str, resource: UserResource) -> ScimUser:
    """PUT: the resource becomes what was sent (the rules decide what reaches the account)."""
    with transaction.atomic():
        record = _locked_user(caller, scim_id)
        _apply(caller, record, resource)
    return get_user(caller, scim_id)


def normalise_patch(payload: dict[str, Any]) -> dict[str, Any]:
    """Entra ID removes multi-valued entries with ``{"op": "Remove", "path": "members", "value": [{"value": id}]}``;
    RFC 7644 §3.5.2.2 selects them with a filter instead. Each such entry becomes ``members[value eq "id"]``.
    (Capitalised ops and the string "False" are understood by scim2-models itself.)"""
    operations = payload.get("Operations") if isinstance(payload, dict) else None
    if not isinstance(operations, list):
        return payload
    out: list[Any] = []
    for op in operations:
        value = op.get("value") if isinstance(op, dict) else None
        path = op.get("path") if isinstance(op, dict) else None
        if (
            isinstance(op, dict)
            and str(op.get("op", "")).lower() == "remove"
            and isinstance(path, str)
            and "[" not in path
            and isinstance(value, list)
            and value
            and all(isinstance(v, dict) and isinstance(v.get("value"), str) for v in value)
        ):
            quote = ScimFilter.quote
            out += [{"op": "remove", "path": f"{path}[value eq {quote(v['value'])}]"} for v in value]
        else:
            out.append(op)
    return {**payload, "Operations": out}


def patch_user(caller: Caller, scim_id: str, payload: dict[str, Any]) -> ScimUser:
    """PATCH (RFC 7644 §3.5.2, with Okta's and Entra ID's variants): applied to the representation, then saved."""
    patch = USER_PATCH.model_validate(normalise_patch(payload), scim_ctx=Context.RESOURCE_PATCH_REQUEST)
    with transaction.atomic():
        record = _locked_user(caller, scim_id)
        resource = user_resource(caller, record)
        patch.patch(resource)
        _apply(caller, record, resource)
    return get_user(caller, scim_id)


def _locked_user(caller: Caller, scim_id: str) -> ScimUser:
    pk = _uuid(scim_id)
    record = (
        ScimUser.objects.select_for_update()
        .select_related("user")
        .filter(organization=caller.organization, pk=pk)
        .first()
        if pk
        else None
    )
    if record is None:
        raise NotFoundException(detail=f"User {scim_id} not found.")
    return record


def _apply(caller: Caller, record: ScimUser, resource: UserResource) -> None:
    org, account = caller.organization, record.user
    user_name = normalize_email(resource.user_name or "")
    changes: list[str] = []
    if user_name != record.user_name:
        user_name = _user_name(caller, resource, policy.verified_domains(org))
        if ScimUser.objects.filter(organization=org, user_name__iexact=user_name).exclude(pk=record.pk).exists():
            raise UniquenessException(detail=f"A user with userName {user_name} is already provisioned.")
        changes.append("userName")
    active = resource.active is not False
    managed = controls_account(caller, record)
    if managed:
        if user_name != account.email:
            if not policy.in_verified_domain(org, user_name):
                raise InvalidValueException(
                    detail=f"userName must be an email address in one of {org.name}'s verified domains."
                )
            if Account.objects.filter(email=user_name).exclude(pk=account.pk).exists():
                raise _refuse(caller, user_name, "email_taken")
            account.email = user_name
            account.email_verified = False
            account.save(update_fields=["email", "email_verified"])
            changes.append("email")
        given, family = _name(resource)
        changes += _set_profile(account, given, family, active)
    elif not active and record.active is not False and _untouchable(org, account):
        _audit(caller, audit.SCIM_REFUSED, account, outcome=audit.DENIED, reason="owner")
        raise ForbiddenException(detail=OWNER_DETAIL)
    record.user_name = user_name
    record.external_id = resource.external_id or ""
    record.display_name = (resource.display_name or "")[:255]
    record.attributes = _stored_attributes(resource)
    record.email_values = _email_values(resource, user_name)
    was_active = record.active is not False
    record.active = resource.active
    if active != was_active:
        changes.append("active")
    record.version += 1
    try:
        with transaction.atomic():
            record.save()
    except IntegrityError:
        raise UniquenessException(detail=f"A user with userName {user_name} is already provisioned.") from None
    if was_active and not active:
        _deactivate(caller, record, managed)
    elif active and not was_active and not managed:
        _restore_membership(caller, record)
    else:
        _audit(caller, audit.SCIM_USER_CHANGED, account, fields=changes, reason="managed" if managed else "linked")


def _untouchable(org: Organization, account: Account) -> bool:
    """Owners (and platform superusers) are never removed, disabled or signed out through SCIM."""
    return account.is_superuser or policy.is_owner(org, account)


def _deactivate(caller: Caller, record: ScimUser, managed: bool) -> None:
    """``active: false``: a managed account is disabled everywhere; a linked one leaves this organisation.

    Either way every session of the person ends and their OAuth tokens are revoked.
    """
    if not managed:
        _end_membership(caller, record)
    count = end_user_sessions(record.user, keep_session_key=None, reason="scim")
    _audit(caller, audit.SCIM_USER_DEACTIVATED, record.user, reason="managed" if managed else "linked", count=count)


def _end_membership(caller: Caller, record: ScimUser) -> None:
    Membership.objects.filter(organization=caller.organization, user=record.user).exclude(role=Role.OWNER).delete()


def _restore_membership(caller: Caller, record: ScimUser) -> None:
    """A linked person reactivated: back as a member (they were one when SCIM linked them; never a role more)."""
    Membership.objects.get_or_create(user=record.user, organization=caller.organization, defaults={"role": Role.MEMBER})
    _audit(caller, audit.SCIM_USER_CHANGED, record.user, fields=["active"], reason="linked")


def delete_user(caller: Caller, scim_id: str) -> None:
    """DELETE: the person leaves the organisation and is signed out everywhere; a managed account is disabled.

    The account row stays (its audit trail and sign-in history); SCIM can provision it again.
    """
    with transaction.atomic():
        record = _locked_user(caller, scim_id)
        account = record.user
        managed = controls_account(caller, record)
        if _untouchable(caller.organization, account):
            _audit(caller, audit.SCIM_REFUSED, account, outcome=audit.DENIED, reason="owner")
            raise ForbiddenException(detail=OWNER_DETAIL)
        if managed and account.is_active:
            account.is_active = False
            account.save(update_fields=["is_active"])
        _end_membership(caller, record)
        record.delete()
        count = end_user_sessions(account, keep_session_key=None, reason="scim")
        _audit(caller, audit.SCIM_USER_DELETED, account, reason="managed" if managed else "linked", count=count)


# -- Groups ------------------------------------------------------------------------------------------------


def groups(caller: Caller) -> QuerySet[ScimGroup]:
    return ScimGroup.objects.filter(organization=caller.organization).prefetch_related(
        Prefetch("members", queryset=ScimUser.objects.only("id", "user_name", "display_name"))
    )


def get_group(caller: Caller, scim_id: str) -> ScimGroup:
    pk = _uuid(scim_id)
    group = groups(caller).filter(pk=pk).first() if pk else None
    if group is None:
        raise NotFoundException(detail=f"Group {scim_id} not found.")
    return group


def list_groups(
    caller: Caller, *, filter: str | None = None, start_index: int = 1, count: int | None = None
) -> tuple[list[ScimGroup], int]:
    qs = groups(caller)
    if filter:
        qs = qs.filter(filters.to_q(filter, "Group")).distinct()
    return _page(qs.order_by("created_at", "id"), start_index, count)


def group_resource(caller: Caller, group: ScimGroup) -> GroupResource:
    # value, $ref and type: the sub-attributes RFC 7643 §8.7.1 defines (display is not one of them).
    members = [GroupMember(value=str(m.pk), type="User") for m in group.members.all()]
    resource = GroupResource(
        id=str(group.pk),
        display_name=group.display_name,
        external_id=group.external_id or None,
        members=members or None,
    )
    for member in resource.members or []:
        member.ref = f"{caller.base_url}/Users/{member.value}"
    resource.meta = Meta(
        resource_type="Group",
        created=group.created_at,
        last_modified=group.updated_at,
        location=f"{caller.base_url}/Groups/{group.pk}",
    )
    return resource


def _member_records(caller: Caller, resource: GroupResource) -> list[ScimUser]:
    """The members named, all of them this organisation's users; one that is not (or a group) is a 400."""
    wanted: dict[uuid.UUID, str] = {}
    for member in resource.members or []:
        pk = _uuid(member.value or "")
        if pk is None or (member.type and str(member.type) != "User"):
            raise InvalidValueException(detail=f"Member {member.value} is not a user of this organisation.")
        wanted[pk] = member.value or ""
    found = list(ScimUser.objects.filter(organization=caller.organization, pk__in=wanted))
    missing = set(wanted) - {r.pk for r in found}
    if missing:
        raise InvalidValueException(detail=f"Member {wanted[sorted(missing)[0]]} is not a user of this organisation.")
    return found


def _display_name(resource: GroupResource) -> str:
    name = (resource.display_name or "").strip()
    if not name:
        raise InvalidValueException(detail="displayName is required.")
    return name[:255]


def create_group(caller: Caller, resource: GroupResource) -> ScimGroup:
    name = _display_name(resource)
    try:
        with transaction.atomic():
            if ScimGroup.objects.filter(organization=caller.organization, display_name__iexact=name).exists():
                raise UniquenessException(detail=f"A group named {name} already exists.")
            group = ScimGroup.objects.create(
                organization=caller.organization, display_name=name, external_id=resource.external_id or ""
            )
            members = _member_records(caller, resource)
            group.members.set(members)
            _audit(caller, audit.SCIM_GROUP_CHANGED, name, reason="created", count=len(members))
    except IntegrityError:
        raise UniquenessException(detail=f"A group named {name} already exists.") from None
    return get_group(caller, str(group.pk))


def _locked_group(caller: Caller, scim_id: str) -> ScimGroup:
    pk = _uuid(scim_id)
    group = (
        ScimGroup.objects.select_for_update().filter(organization=caller.organization, pk=pk).first() if pk else None
    )
    if group is None:
        raise NotFoundException(detail=f"Group {scim_id} not found.")
    return group


def _apply_group(caller: Caller, group: ScimGroup, resource: GroupResource, *, members_given: bool = True) -> None:
    name = _display_name(resource)
    if (
        ScimGroup.objects.filter(organization=caller.organization, display_name__iexact=name)
        .exclude(pk=group.pk)
        .exists()
    ):
        raise UniquenessException(detail=f"A group named {name} already exists.")
    group.display_name, group.external_id = name, resource.external_id or ""
    group.version += 1
    group.save()
    count = None
    if members_given:
        members = _member_records(caller, resource)
        group.members.set(members)
        count = len(members)
    _audit(caller, audit.SCIM_GROUP_CHANGED, name, reason="changed", count=count)


def replace_group(caller: Caller, scim_id: str, resource: GroupResource) -> ScimGroup:
    with transaction.atomic():
        _apply_group(caller, _locked_group(caller, scim_id), resource)
    return get_group(caller, scim_id)


def patch_group(caller: Caller, scim_id: str, payload: dict[str, Any]) -> ScimGroup:
    patch = GROUP_PATCH.model_validate(normalise_patch(payload), scim_ctx=Context.RESOURCE_PATCH_REQUEST)
    with transaction.atomic():
        locked = _locked_group(caller, scim_id)
        resource = group_resource(caller, get_group(caller, scim_id))
        patch.patch(resource)
        _apply_group(caller, locked, resource)
    return get_group(caller, scim_id)


def delete_group(caller: Caller, scim_id: str) -> None:
    with transaction.atomic():
        group = _locked_group(caller, scim_id)
        name = group.display_name
        group.delete()
        _audit(caller, audit.SCIM_GROUP_CHANGED, name, reason="deleted")
