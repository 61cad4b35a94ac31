"""Wiring only: Django's admin autodiscovery imports this module, and it imports each feature's admin.

Every feature registers its own ModelAdmin classes with ``@admin.register`` in its ``admin.py``; org scoping comes
from ``jeto_identity.orgadmin.base``.
"""

from jeto_identity.audit import admin as audit_admin  # noqa: F401
from jeto_identity.connections import admin as connections_admin  # noqa: F401
from jeto_identity.orgadmin import admin as orgadmin_admin  # noqa: F401
from jeto_identity.provider import admin as provider_admin  # noqa: F401
from jeto_identity.provisioning import admin as provisioning_admin  # noqa: F401
from jeto_identity.sso import admin as sso_admin  # noqa: F401
from jeto_identity.throttle import admin as throttle_admin  # noqa: F401
