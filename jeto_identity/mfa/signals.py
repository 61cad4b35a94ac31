"""Signals about second factors (docs/integrators.md, "Signals"). Sent by ``mfa.services`` once the change is
committed to its transaction, with ``sender`` the user model.

* ``mfa_enabled(sender, user, device)``: an authenticator app was confirmed (recovery codes were issued with it), or
  a passkey was registered (``device`` a ``WebAuthnDevice``).
* ``mfa_removed(sender, user, devices)``: the user removed their own second factor or one passkey (``devices``: how
  many).
* ``passkey_clone_warning(sender, user, device)``: a passkey's signature counter went backwards; it is blocked.
* ``mfa_reset(sender, user, actor, devices)``: an administrator (``actor``) reset the user's second factor.
"""

from django.dispatch import Signal

mfa_enabled = Signal()
mfa_removed = Signal()
mfa_reset = Signal()
passkey_clone_warning = Signal()
