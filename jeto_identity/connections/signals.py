"""Signals about application connections (docs/integrators.md, "Signals").

* ``client_secret_rotated(sender=OAuthClient, client, previous_secret_expires_at)``: ``client`` has a new secret;
  the previous one keeps working until ``previous_secret_expires_at`` (None: it stopped at once). Sent by
  ``connections.services.rotate_secret`` (Django admin's "rotate" button calls it too). The secret is never sent.
"""

from django.dispatch import Signal

client_secret_rotated = Signal()
