"""The stable dotted path of the password backend: ``jeto_identity.backends.EmailBackend``.

Every signed-in session stores the path of the backend that signed it in, and Django accepts a session only
while that path is listed in ``AUTHENTICATION_BACKENDS``; so this path stays, whatever the package layout. The
code lives in ``jeto_identity.login.backends``.
"""

from jeto_identity.login.backends import EmailBackend

__all__ = ["EmailBackend"]
