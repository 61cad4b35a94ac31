"""The one class a host overrides to change what Jeto Identity does (like django-allauth's adapter).

Point ``JETO_IDENTITY["ADAPTER"]`` at a subclass of :class:`DefaultAdapter` and override only the hooks you need;
the app calls them through :func:`get_adapter`. Hooks that receive the app's default (claims, claim scopes) return
the final value, so a subclass usually starts from ``super()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.mail import EmailMultiAlternatives
from django.template import loader

from jeto_identity.conf import jeto_settings

if TYPE_CHECKING:
    from jeto_identity.models import SSOConnection, User
    from jeto_identity.sso.services import Assertion


class DefaultAdapter:
    """Jeto Identity's own behaviour, one method per decision a host may want to make differently."""

    # ---- single sign-on ---------------------------------------------------------------------------------------

    def provision_user(self, connection: SSOConnection, assertion: Assertion) -> User:
        """Create the account an IdP vouches for (JIT provisioning) and return it, saved.

        Called only when the connection allows JIT and no account has the asserted email; runs inside the
        sign-in's transaction, before the account is linked and given its membership. ``assertion.claims`` holds
        everything the IdP said. Raise ``jeto_identity.sso.services.SSOLoginRefused`` to refuse the person.
        """
        from jeto_identity.models import User

        return User.objects.create_user(
            email=assertion.email,
            password=None,
            email_verified=assertion.email_verified,
            first_name=assertion.given_name,
            last_name=assertion.family_name,
        )

    def map_role(self, connection: SSOConnection, claims: dict[str, Any] | None) -> str:
        """The organisation role (``Role`` value) an IdP's claims give a member; must be a ``Role`` value.

        Default: the highest role whose value the connection's role claim asserted, else its default role.
        """
        from jeto_identity.sso.services import mapped_role

        return mapped_role(connection, claims)

    # ---- OpenID Provider: what ID tokens and userinfo say -----------------------------------------------------

    def claim_scopes(self, scopes: dict[str, str]) -> dict[str, str]:
        """Claim name -> the scope that releases it. Add an entry for every claim ``populate_claims`` adds."""
        return scopes

    def populate_claims(self, user: User, claims: dict[str, Any]) -> dict[str, Any]:
        """The user's claims (values, or callables taking the oauthlib request for costly ones)."""
        return claims

    # ---- mail --------------------------------------------------------------------------------------------------

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        """Render and send one message (the password-reset mail). Runs off the request path; errors are logged."""
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        message = EmailMultiAlternatives(subject, body, from_email, [to_email])
        if html_email_template_name is not None:
            message.attach_alternative(loader.render_to_string(html_email_template_name, context), "text/html")
        message.send()

    # ---- keys for secrets at rest -----------------------------------------------------------------------------

    def key_material(self, purpose: str) -> list[str | bytes]:
        """Secrets for one purpose of the keyring (``jeto_identity.core.keys``), newest first.

        Default: ``JETO_IDENTITY["KEYS"][purpose]`` or the purpose's older setting. Override to read them from a
        secret store; an empty list (or the entry ``"SECRET_KEY"``) means keys derived from SECRET_KEY.
        """
        from jeto_identity.core import keys

        return keys.configured(purpose)


def get_adapter() -> DefaultAdapter:
    """The configured adapter, created once (again after ``JETO_IDENTITY`` changes)."""
    return jeto_settings.cached("adapter", lambda: jeto_settings.imported("ADAPTER")())
