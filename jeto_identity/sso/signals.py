"""Signals about single sign-on (docs/integrators.md, "Signals"). Sent by ``sso.services.resolve_user`` once the
sign-in's transaction has done its work, with ``sender`` the user model.

* ``user_provisioned(sender, user, connection, claims)``: JIT created ``user`` for what the IdP asserted.
* ``account_linked(sender, user, connection, identity)``: ``user`` was linked to the IdP's ``sub``
  (``identity``, a ``FederatedIdentity``): after JIT, silently, or once its holder confirmed the link.
"""

from django.dispatch import Signal

user_provisioned = Signal()
account_linked = Signal()
