"""Signal receivers that feed the audit log from Django's auth signals and from model saves.

Model receivers run inside the saving transaction, so a change and its audit event commit (or roll back)
together. The acting user and source address come from the request being served (``middleware``).
``connect()`` (called from ``JetoIdentityConfig.ready``) connects each receiver with its sender.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models import Model
from django.db.models.signals import post_delete, post_save, pre_save
from django.http import HttpRequest
from django_otp.models import Device

from jeto_identity.audit import services as audit
from jeto_identity.core.organizations import sign_in_organizations
from jeto_identity.core.users import normalize_email
from jeto_identity.models import (
    ApplicationConnection,
    FederatedIdentity,
    Membership,
    OAuthClient,
    Organization,
    OrganizationDomain,
    User,
)

POLICY_FIELDS = ("mfa_required", "sso_enforced", "phishing_resistant_only", "phishing_resistant_grace_days")
USER_ACCESS_FIELDS = ("email", "is_active", "is_staff", "is_superuser")
_OLD = "_jeto_audit_old"


def _stash_old(instance: Model, fields: tuple[str, ...], update_fields: Any) -> None:
    if instance._state.adding or not instance.pk:
        return
    if update_fields is not None and not set(update_fields) & set(fields):
        return
    old = type(instance)._default_manager.filter(pk=instance.pk).values(*fields).first()
    setattr(instance, _OLD, old)


def _changes(instance: Model, fields: tuple[str, ...]) -> dict[str, list[Any]]:
    old = getattr(instance, _OLD, None) or {}
    if _OLD in instance.__dict__:
        delattr(instance, _OLD)
    return {f: [old[f], getattr(instance, f)] for f in fields if f in old and old[f] != getattr(instance, f)}


# -- sign-in ------------------------------------------------------------------------------------------------


def _logged_in(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    amr = list(getattr(request, "jeto_amr", None) or [])
    audit.record(
        audit.SIGN_IN_SUCCESS,
        request=request,
        actor=user,
        subject=user,
        # The MFA stage of this sign-in may have read the user's organisations already.
        organization=audit.organization_for(user, organizations=sign_in_organizations(request, user)),
        amr=amr,
        method="sso" if "fed" in amr else ("password" if "pwd" in amr else "other"),
    )


def _login_failed(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kw: Any) -> None:
    email = normalize_email(str(credentials.get("email") or credentials.get("username") or ""))[:254]
    user = User.objects.filter(email=email).first() if email else None
    locked = bool(getattr(request, "axes_locked_out", False))
    audit.record(
        audit.SIGN_IN_FAILURE,
        request=request,
        subject=user or email,
        organization=audit.organization_for(user, email),
        outcome=audit.DENIED if locked else audit.FAILURE,
        reason="locked_out" if locked else ("inactive_or_wrong_password" if user else "unknown_email"),
        method="password" if "password" in credentials else "other",
    )


def _logged_out(sender: Any, request: HttpRequest | None, user: User | None, **kwargs: Any) -> None:
    if user is not None:
        audit.record(audit.SIGN_OUT, request=request, actor=user, subject=user)


# -- organisation policy and membership (Django admin and any other path) ----------------------------------


def _org_pre(sender: Any, instance: Organization, update_fields: Any = None, **kwargs: Any) -> None:
    _stash_old(instance, POLICY_FIELDS, update_fields)


def _org_post(sender: Any, instance: Organization, created: bool, **kwargs: Any) -> None:
    changes = _changes(instance, POLICY_FIELDS)
    if changes:
        audit.record(audit.POLICY_CHANGED, organization=instance, subject=instance.slug, changes=changes)


def _member_pre(sender: Any, instance: Membership, update_fields: Any = None, **kwargs: Any) -> None:
    _stash_old(instance, ("role",), update_fields)


def _member_post(sender: Any, instance: Membership, created: bool, **kwargs: Any) -> None:
    if created:
        audit.record(audit.MEMBER_ADDED, organization=instance.organization, subject=instance.user, role=instance.role)
        return
    changes = _changes(instance, ("role",))
    if changes:
        audit.record(
            audit.MEMBER_CHANGED,
            organization=instance.organization,
            subject=instance.user,
            role=instance.role,
            old_role=changes["role"][0],
            changes=changes,
        )


def _member_deleted(sender: Any, instance: Membership, **kwargs: Any) -> None:
    org = Organization.objects.filter(pk=instance.organization_id).first()
    user = User.objects.filter(pk=instance.user_id).first()
    audit.record(
        audit.MEMBER_REMOVED,
        organization=org,
        subject=user or str(instance.user_id),
        role=instance.role,
    )


def _user_pre(sender: Any, instance: User, update_fields: Any = None, **kwargs: Any) -> None:
    _stash_old(instance, USER_ACCESS_FIELDS, update_fields)


def _user_post(sender: Any, instance: User, created: bool, **kwargs: Any) -> None:
    changes = _changes(instance, USER_ACCESS_FIELDS)
    if changes and not created:
        memberships = list(Membership.objects.filter(user=instance).select_related("organization"))
        for org in [m.organization for m in memberships] or [None]:
            audit.record(audit.MEMBER_CHANGED, organization=org, subject=instance, changes=changes, via="account")


# -- email domains: adding, renaming, moving, verifying and removing one all change who signs in where ---------

DOMAIN_FIELDS = ("domain", "organization_id", "verified")


def _domain_pre(sender: Any, instance: OrganizationDomain, update_fields: Any = None, **kwargs: Any) -> None:
    if update_fields is not None:  # save(update_fields=["organization"]) names the field, not its column
        update_fields = {"organization_id" if f == "organization" else f for f in update_fields}
    _stash_old(instance, DOMAIN_FIELDS, update_fields)


def _domain_post(sender: Any, instance: OrganizationDomain, created: bool, **kwargs: Any) -> None:
    if created:
        _domain_event(audit.DOMAIN_ADDED, instance, instance.organization, verified=instance.verified)
        return
    changes = _changes(instance, DOMAIN_FIELDS)
    if not changes:
        return
    moved = changes.pop("organization_id", None)
    if moved:
        old_org, new_org = (Organization.objects.filter(pk=pk).first() for pk in moved)
        changes["organization"] = [old_org.slug if old_org else None, new_org.slug if new_org else None]
        if old_org is not None:  # the organisation it was taken from sees the move in its own log too
            _domain_event(audit.DOMAIN_CHANGED, instance, old_org, changes=changes)
    _domain_event(audit.DOMAIN_CHANGED, instance, instance.organization, changes=changes)


def _domain_deleted(sender: Any, instance: OrganizationDomain, **kwargs: Any) -> None:
    org = Organization.objects.filter(pk=instance.organization_id).first()
    _domain_event(audit.DOMAIN_REMOVED, instance, org, verified=instance.verified)


def _domain_event(event: str, instance: OrganizationDomain, org: Organization | None, **details: Any) -> None:
    audit.record(event, organization=org, subject=instance.domain, domain=instance.domain, **details)


# -- API clients (application connections): every path, admin or service, is audited -------------------------

CLIENT_FIELDS = ("client_secret", "enabled")


def _client_pre(sender: Any, instance: OAuthClient, update_fields: Any = None, **kwargs: Any) -> None:
    _stash_old(instance, CLIENT_FIELDS, update_fields)


def _client_event(event: str, instance: OAuthClient, org: Organization | None, **extra: Any) -> None:
    audit.record(
        event,
        organization=org,
        subject=instance.client_id,
        client_id=instance.client_id,
        client_name=instance.name,
        grant_type=instance.authorization_grant_type,
        **extra,
    )


def _client_post(sender: Any, instance: OAuthClient, created: bool, **kwargs: Any) -> None:
    org = instance.organization
    if created:
        _client_event(audit.API_CLIENT_CREATED, instance, org)
        return
    changes = _changes(instance, CLIENT_FIELDS)  # compares stored hashes only; no secret is ever recorded
    if "client_secret" in changes:
        _client_event(audit.API_CLIENT_ROTATED, instance, org)
    if changes.get("enabled") == [True, False]:
        _client_event(audit.API_CLIENT_REVOKED, instance, org, reason="disabled")


def _client_deleted(sender: Any, instance: OAuthClient, **kwargs: Any) -> None:
    org = Organization.objects.filter(pk=instance.organization_id).first() if instance.organization_id else None
    _client_event(audit.API_CLIENT_REVOKED, instance, org, reason="deleted")


# -- MFA devices (django-otp): enrolment, failed challenges (its throttling counter), reset ---------------------

DEVICE_FIELDS = ("confirmed", "throttling_failure_count")


def _device_pre(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    fields = tuple(f for f in DEVICE_FIELDS if hasattr(instance, f))
    _stash_old(instance, fields, update_fields)


def _device_post(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    user = instance.user
    kind = type(instance).__name__.removesuffix("Device").lower() or "device"
    changes = _changes(instance, tuple(f for f in DEVICE_FIELDS if hasattr(instance, f)))
    org = audit.organization_for(user)
    if (created and instance.confirmed) or changes.get("confirmed") == [False, True]:
        audit.record(audit.MFA_ENROLLED, actor=user, subject=user, organization=org, device=kind)
    failures = changes.get("throttling_failure_count")
    if failures and failures[1] > failures[0]:
        audit.record(
            audit.MFA_CHALLENGE_FAILED,
            actor=user,
            subject=user,
            organization=org,
            outcome=audit.FAILURE,
            device=kind,
            failures=failures[1],
        )


def _device_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    user = User.objects.filter(pk=instance.user_id).first()
    kind = type(instance).__name__.removesuffix("Device").lower() or "device"
    subject = user or str(instance.user_id)
    audit.record(audit.MFA_RESET, subject=subject, organization=audit.organization_for(user), device=kind)


# -- single sign-on: a person's account linked to an IdP identity ---------------------------------------------


def _sso_linked(sender: Any, instance: FederatedIdentity, created: bool, **kwargs: Any) -> None:
    if created:
        connection = instance.connection
        audit.record(
            audit.SSO_LINK, subject=instance.user, organization=connection.organization, connection=connection.name
        )


# -- wiring: every receiver with its sender (a receiver without one would run on every save in the process) ----


def _device_models() -> list[type[Device]]:
    """Every installed django-otp device model, proxies included (a save names the class that was saved)."""
    return [model for model in apps.get_models() if issubclass(model, Device)]


def connect() -> None:
    """Called from ``JetoIdentityConfig.ready``."""
    import django.contrib.auth

    user_model = get_user_model()
    user_logged_in.connect(_logged_in, sender=user_model, dispatch_uid="jeto_audit_logged_in")
    # authenticate() names its module as the sender (the module's own __name__ object, so the ids match).
    user_login_failed.connect(
        _login_failed, sender=django.contrib.auth.__name__, dispatch_uid="jeto_audit_login_failed"
    )
    user_logged_out.connect(_logged_out, sender=user_model, dispatch_uid="jeto_audit_logged_out")
    model_receivers = [
        (Organization, _org_pre, _org_post, None),
        (Membership, _member_pre, _member_post, _member_deleted),
        (User, _user_pre, _user_post, None),
        (OrganizationDomain, _domain_pre, _domain_post, _domain_deleted),
        # The application-connection proxy (its admin) is a sender of its own.
        (OAuthClient, _client_pre, _client_post, _client_deleted),
        (ApplicationConnection, _client_pre, _client_post, _client_deleted),
        *[(model, _device_pre, _device_post, _device_deleted) for model in _device_models()],
        (FederatedIdentity, None, _sso_linked, None),
    ]
    for model, pre, post, deleted in model_receivers:
        name = f"{model._meta.label_lower}"
        if pre is not None:
            pre_save.connect(pre, sender=model, dispatch_uid=f"jeto_audit_pre:{name}")
        if post is not None:
            post_save.connect(post, sender=model, dispatch_uid=f"jeto_audit_post:{name}")
        if deleted is not None:
            post_delete.connect(deleted, sender=model, dispatch_uid=f"jeto_audit_delete:{name}")
