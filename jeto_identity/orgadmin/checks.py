"""System checks for plans and onboarding: the default plan, DNS resolvers, invitations (IDs ``E70x`` / ``W70x``)."""

from __future__ import annotations

from django.core.checks import Error, Tags, Warning, register
from django.template import TemplateDoesNotExist
from django.template.loader import get_template


@register(Tags.security)
def check_plans_and_onboarding(app_configs, **kwargs) -> list:
    from jeto_identity.conf import jeto_settings
    from jeto_identity.orgadmin import domains, plans

    problems: list = []
    default = jeto_settings.DEFAULT_PLAN
    if not isinstance(default, dict):
        problems.append(
            Error(
                "JETO_IDENTITY['DEFAULT_PLAN'] must be a dict like {'features': [...], 'max_api_clients': N}.",
                id="jeto_identity.E701",
            )
        )
    else:
        unknown = sorted(set(default.get("features", [])) - set(plans.FEATURES)) + sorted(
            set(default) - {"features", *plans.CAPS.values()}
        )
        bad_caps = [
            k
            for k in plans.CAPS.values()
            if default.get(k) is not None and not (isinstance(default[k], int) and default[k] >= 0)
        ]
        if unknown or bad_caps:
            problems.append(
                Error(
                    f"JETO_IDENTITY['DEFAULT_PLAN'] names unknown features or keys ({', '.join(unknown) or '-'}), "
                    f"or caps that are not whole numbers ({', '.join(bad_caps) or '-'}).",
                    hint=f"Features: {', '.join(plans.FEATURES)}; caps: {', '.join(plans.CAPS.values())}.",
                    id="jeto_identity.E702",
                )
            )
    for entry in jeto_settings.DNS_RESOLVERS or []:
        try:
            domains.parse_resolver(entry)
        except (ValueError, TypeError):
            problems.append(
                Error(
                    f"JETO_IDENTITY['DNS_RESOLVERS'] entry {entry!r} is not an IP address (with an optional port).",
                    hint='e.g. "192.0.2.53" or "192.0.2.53:5353" or "[2001:db8::53]:53".',
                    id="jeto_identity.E703",
                )
            )
    timeout = jeto_settings.DNS_TIMEOUT
    if not isinstance(timeout, int | float) or not 0 < timeout <= 30:
        problems.append(
            Warning(
                f"JETO_IDENTITY['DNS_TIMEOUT'] is {timeout!r}: domain verification waits this long in a request.",
                hint="A number of seconds between 1 and 30 (default 5).",
                id="jeto_identity.W701",
            )
        )
    try:
        get_template(jeto_settings.API_PROGRAMME_TERMS_TEMPLATE)
    except TemplateDoesNotExist:
        problems.append(
            Error(
                f"The API Integrations programme's terms template {jeto_settings.API_PROGRAMME_TERMS_TEMPLATE!r} "
                "does not exist: nobody could apply.",
                id="jeto_identity.E704",
            )
        )
    max_age = jeto_settings.INVITATION_MAX_AGE
    if not isinstance(max_age, int) or not 3600 <= max_age <= 30 * 24 * 3600:
        problems.append(
            Warning(
                f"JETO_IDENTITY['INVITATION_MAX_AGE'] is {max_age!r}: an invitation link should live between an hour "
                "and 30 days.",
                id="jeto_identity.W702",
            )
        )
    return problems
