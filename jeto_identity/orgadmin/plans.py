"""Plans: what each organisation may use. Every feature asks ``is_entitled(organization, feature)``.

A platform admin sets an organisation's plan in Django admin (the ``Plan`` row); an organisation without one has
``JETO_IDENTITY["DEFAULT_PLAN"]``. Org admins see their plan and toggle only within it; what it leaves out they can
ask platform admins to switch on (``request_activation``). The checks live here and in the services that call them
(SSO routing, the token endpoint, issuing clients), never only in admin forms.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connections, router, transaction
from django.utils import timezone

from jeto_identity.conf import jeto_settings
from jeto_identity.models import Organization, Plan, User

SSO = "sso"
MFA_POLICY = "mfa_policy"
API_CLIENTS = "api_clients"
SCIM = "scim"

FEATURES: dict[str, str] = {
    SSO: "Single sign-on (OIDC and SAML connections)",
    MFA_POLICY: "MFA policy (require MFA of every member)",
    API_CLIENTS: "Application connections (API Integrations programme)",
    SCIM: "SCIM provisioning",
}
# cap name -> Plan field
CAPS: dict[str, str] = {"sso_connections": "max_sso_connections", "api_clients": "max_api_clients"}

ACTIVATION_SUBJECT = "jeto_identity/orgadmin/email/activation_request_subject.txt"
ACTIVATION_BODY = "jeto_identity/orgadmin/email/activation_request.txt"
ACTIVATION_REPEAT_SECONDS = 24 * 3600  # one request per feature and organisation a day reaches platform admins


class NotEntitled(PermissionDenied):
    """The organisation's plan does not include the feature. ``str()`` is safe to show an org admin."""

    def __init__(self, organization: Organization | None, feature: str) -> None:
        self.organization = organization
        self.feature = feature
        name = organization.name if organization is not None else "This organisation"
        super().__init__(
            f"{name}'s plan does not include {FEATURES.get(feature, feature).split(' (')[0].lower()}. "
            "Ask for it to be activated on the organisation's page in admin."
        )


class CapReached(PermissionDenied):
    def __init__(self, organization: Organization, cap: str, limit: int) -> None:
        self.organization, self.cap, self.limit = organization, cap, limit
        label = "SSO connections" if cap == "sso_connections" else "application connections"
        super().__init__(f"{organization.name}'s plan allows {limit} {label}; remove one or ask for a higher limit.")


@dataclass(frozen=True)
class Entitlements:
    """An organisation's effective plan (its row, or the default)."""

    features: frozenset[str]
    caps: dict[str, int | None]
    from_default: bool

    def includes(self, feature: str) -> bool:
        return feature in self.features


def default_entitlements() -> Entitlements:
    conf: dict[str, Any] = dict(jeto_settings.DEFAULT_PLAN or {})
    features = frozenset(conf.get("features", FEATURES)) & frozenset(FEATURES)
    caps = {cap: conf.get(field) for cap, field in CAPS.items()}
    return Entitlements(features, caps, from_default=True)


def _from_row(row: Plan) -> Entitlements:
    return Entitlements(
        frozenset(f for f in FEATURES if getattr(row, f)),
        {cap: getattr(row, field) for cap, field in CAPS.items()},
        from_default=False,
    )


def _org_id(organization: Organization | int | None) -> int | None:
    if organization is None:
        return None
    return organization if isinstance(organization, int) else organization.pk


def entitlements(organization: Organization | int | None) -> Entitlements:
    """What ``organization`` may use now (one query; nothing cached across requests, so every node agrees)."""
    org_id = _org_id(organization)
    if org_id is None:
        return default_entitlements()
    row = _read_row(org_id)
    if row is None:
        return default_entitlements()
    return Entitlements(
        frozenset(f for f, on in zip(FEATURES, row, strict=False) if on),
        {cap_name: row[len(FEATURES) + i] for i, cap_name in enumerate(CAPS)},
        from_default=False,
    )


@functools.cache
def _row_sql() -> str:
    """``SELECT <features>, <caps> FROM <plan table> WHERE organization_id = %s``, built once from the model."""
    opts = Plan._meta
    columns = [opts.get_field(name).column for name in (*FEATURES, *CAPS.values())]
    quote = connections[router.db_for_read(Plan)].ops.quote_name
    # Identifiers come from the model's own metadata, quoted by the backend; the value is a bound parameter.
    return (
        f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(opts.db_table)} "  # noqa: S608
        f"WHERE {quote(opts.get_field('organization').column)} = %s"
    )


def _read_row(org_id: int) -> tuple | None:
    """The plan row's values, in one indexed lookup without the ORM's per-query compilation (it runs on every
    token request): plain SQL through Django's public cursor API, so it is the same on every backend."""
    with connections[router.db_for_read(Plan)].cursor() as cursor:
        cursor.execute(_row_sql(), [org_id])
        return cursor.fetchone()


def is_entitled(organization: Organization | int | None, feature: str) -> bool:
    """Does ``organization``'s plan include ``feature`` ("sso", "mfa_policy", "api_clients", "scim")?

    The one question every feature asks. An unknown feature name is a programming error (``KeyError``), so a typo
    cannot quietly grant or refuse something. No organisation: False.
    """
    if feature not in FEATURES:
        raise KeyError(f"Unknown feature {feature!r}; known: {', '.join(FEATURES)}")
    if organization is None:
        return False
    return entitlements(organization).includes(feature)


def require(organization: Organization, feature: str) -> None:
    """Raise ``NotEntitled`` unless the plan includes ``feature``."""
    if not is_entitled(organization, feature):
        raise NotEntitled(organization, feature)


def cap(organization: Organization | int, name: str) -> int | None:
    """The plan's limit for ``name`` ("sso_connections", "api_clients"); None when there is none."""
    if name not in CAPS:
        raise KeyError(f"Unknown cap {name!r}; known: {', '.join(CAPS)}")
    return entitlements(organization).caps.get(name)


def count(organization: Organization, name: str) -> int:
    """How many of ``name`` the organisation has now (SSO connections of every type; its API clients)."""
    if name == "sso_connections":
        from jeto_identity.models import SSOConnection

        total = SSOConnection.objects.filter(organization=organization).count()
        for counter in SSO_CONNECTION_COUNTERS:  # other connection types (SAML…) register theirs
            total += counter(organization)
        return total
    from jeto_identity.models import ApplicationConnection

    return ApplicationConnection.objects.filter(organization=organization).count()


# Callables (organization) -> int, one per other SSO connection model, so the cap counts every type.
SSO_CONNECTION_COUNTERS: list = []


def check_cap(organization: Organization, name: str, *, adding: int = 1) -> None:
    """Raise ``CapReached`` if adding ``adding`` more of ``name`` would exceed the plan's limit."""
    limit = cap(organization, name)
    if limit is not None and count(organization, name) + adding > limit:
        raise CapReached(organization, name, limit)


# ---- changing a plan ----------------------------------------------------------------------------------------


def plan_row(organization: Organization) -> Plan:
    """The organisation's row, created from the default plan when it has none (for platform admins' changes)."""
    defaults = default_entitlements()
    row, _ = Plan.objects.get_or_create(
        organization=organization,
        defaults={
            **{f: f in defaults.features for f in FEATURES},
            **{field: defaults.caps.get(cap_name) for cap_name, field in CAPS.items()},
        },
    )
    return row


def set_feature(organization: Organization, feature: str, on: bool) -> Plan:
    """Switch one feature of the plan (the programme's decisions use it); receivers audit and apply it."""
    if feature not in FEATURES:
        raise KeyError(feature)
    with transaction.atomic():
        row = plan_row(organization)
        row = Plan.objects.select_for_update().get(pk=row.pk)
        if getattr(row, feature) != on:
            setattr(row, feature, on)
            row.save()
    return row


def switched_off(old: Entitlements, new: Entitlements) -> set[str]:
    return set(old.features - new.features)


def apply_switch_off(organization: Organization, features: set[str]) -> dict[str, Any]:
    """What switching features off does at once. Nothing is deleted but outstanding access tokens.

    - ``api_clients``: every access token of the organisation's clients is revoked now (clients stay, disabled by
      the plan: the token endpoint refuses them until it is switched on again);
    - ``sso``: nothing to do here: routing and the IdP callbacks ask ``is_entitled`` on every sign-in;
    - ``mfa_policy``: nothing: a requirement already on stays in force (see docs/admins.md).
    """
    done: dict[str, Any] = {}
    if API_CLIENTS in features:
        from oauth2_provider.models import get_access_token_model, get_refresh_token_model

        get_refresh_token_model().objects.filter(application__organization=organization).delete()
        deleted, _ = get_access_token_model().objects.filter(application__organization=organization).delete()
        done["count"] = deleted
    return done


# ---- asking for a feature -------------------------------------------------------------------------------------


def request_activation(organization: Organization, feature: str, user: User, *, note: str = "") -> bool:
    """An org admin asks platform admins to switch ``feature`` on. Audited; mailed to platform admins.

    Returns False (audited, nothing mailed) when the same request was made in the last day, or the plan already
    includes it. Raises ``PermissionDenied`` unless ``user`` administers ``organization``.
    """
    from jeto_identity.audit import services as audit
    from jeto_identity.core import access, mail
    from jeto_identity.models import AuditEvent

    if feature not in FEATURES:
        raise KeyError(feature)
    if not (user.is_superuser or organization.pk in access.administered_org_ids(user)):
        raise PermissionDenied
    since = timezone.now() - timezone.timedelta(seconds=ACTIVATION_REPEAT_SECONDS)
    repeated = AuditEvent.objects.filter(
        event=audit.PLAN_ACTIVATION_REQUESTED,
        organization_id=organization.pk,
        details__feature=feature,
        outcome=audit.SUCCESS,
        time__gte=since,
    ).exists()
    included = is_entitled(organization, feature)
    outcome = audit.SUCCESS if not (repeated or included) else audit.DENIED
    audit.record(
        audit.PLAN_ACTIVATION_REQUESTED,
        actor=user,
        organization=organization,
        subject=organization.name,
        outcome=outcome,
        feature=feature,
        reason="" if outcome == audit.SUCCESS else ("already_included" if included else "repeated"),
        note=note[:500],
    )
    if outcome != audit.SUCCESS:
        return False
    context = {"organization": organization.name, "feature": FEATURES[feature], "user": user.email, "note": note[:500]}
    for recipient in platform_admin_emails():
        mail.send_mail(ACTIVATION_SUBJECT, ACTIVATION_BODY, context, None, recipient)
    return True


def platform_admin_emails() -> list[str]:
    """Where activation requests and programme applications go: ``JETO_IDENTITY["PLATFORM_ADMIN_EMAILS"]``, else
    every active superuser's address (else Django's ``ADMINS``)."""
    configured = list(jeto_settings.PLATFORM_ADMIN_EMAILS or [])
    if configured:
        return configured
    found = list(
        User.objects.filter(is_superuser=True, is_active=True).exclude(email="").values_list("email", flat=True)
    )
    return found or [email for _, email in getattr(settings, "ADMINS", [])]


def check_sso_connection_allowed(organization: Organization) -> None:
    """Before adding an SSO connection of any type: the plan includes SSO and its cap has room."""
    require(organization, SSO)
    check_cap(organization, "sso_connections")


def check_api_client_allowed(organization: Organization) -> None:
    """Before issuing an application connection: the plan includes them (the programme approved) and has room."""
    require(organization, API_CLIENTS)
    check_cap(organization, "api_clients")
