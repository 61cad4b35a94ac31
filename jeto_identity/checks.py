"""Wiring only: importing each feature's ``checks`` module registers its system checks.

Check IDs are unique across the app; each feature has its own range (listed in docs/integrators.md):
core ``E00x``/``W00x``, single sign-on ``E10x``/``W10x``, MFA ``E20x``, OpenID Provider ``E30x``/``W30x``,
application connections ``E40x``/``W40x``, brute-force protection ``E50x``/``W50x``,
SCIM provisioning ``E60x``/``W60x``, plans and onboarding ``E70x``/``W70x``.
"""

from jeto_identity.connections import checks as connections_checks  # noqa: F401
from jeto_identity.core import checks as core_checks  # noqa: F401
from jeto_identity.mfa import checks as mfa_checks  # noqa: F401
from jeto_identity.mfa.webauthn import checks as webauthn_checks  # noqa: F401
from jeto_identity.orgadmin import checks as orgadmin_checks  # noqa: F401
from jeto_identity.provider import checks as provider_checks  # noqa: F401
from jeto_identity.provisioning import checks as provisioning_checks  # noqa: F401
from jeto_identity.sso import checks as sso_checks  # noqa: F401
from jeto_identity.throttle import checks as throttle_checks  # noqa: F401
