"""System checks of plans and onboarding (E70x / W70x)."""

from __future__ import annotations

import pytest
from django.test import override_settings

from jeto_identity.orgadmin.checks import check_plans_and_onboarding


def ids(**settings) -> list[str]:
    with override_settings(JETO_IDENTITY=settings):
        return sorted(p.id for p in check_plans_and_onboarding(None))


def test_the_defaults_pass():
    assert ids() == []


@pytest.mark.parametrize(
    "settings, expected",
    [
        ({"DEFAULT_PLAN": ["sso"]}, "jeto_identity.E701"),
        ({"DEFAULT_PLAN": {"features": ["sso", "teleport"]}}, "jeto_identity.E702"),
        ({"DEFAULT_PLAN": {"features": [], "max_api_clients": -1}}, "jeto_identity.E702"),
        ({"DNS_RESOLVERS": ["dns.example"]}, "jeto_identity.E703"),
        ({"API_PROGRAMME_TERMS_TEMPLATE": "nope/terms.txt"}, "jeto_identity.E704"),
        ({"DNS_TIMEOUT": 0}, "jeto_identity.W701"),
        ({"INVITATION_MAX_AGE": 60}, "jeto_identity.W702"),
    ],
)
def test_each_problem_has_its_id(settings, expected):
    assert ids(**settings) == [expected]
