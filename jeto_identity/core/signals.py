"""Signals about organisations (docs/integrators.md, "Signals").

Sent for every path that adds or removes a member (admin, invitations, SCIM, single sign-on, plain ORM): from the
``Membership`` model receivers in ``core.receivers``, inside the saving transaction.

* ``member_added(sender=Membership, membership, user, organization, role)``
* ``member_removed(sender=Membership, membership, user, organization, role)``: ``user`` or ``organization`` may be
  None when it is being deleted with the membership.
"""

from django.dispatch import Signal

member_added = Signal()
member_removed = Signal()
