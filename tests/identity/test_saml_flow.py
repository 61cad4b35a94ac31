"""SAML sign-in journeys through the real views, against pysaml2's IdP side with its own keys."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY

from jeto_identity.models import FederatedIdentity, Membership, User
from tests.saml_support import SAMLJourney, make_saml_connection

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sso_env")]


@pytest.fixture
def acme_saml(acme, saml_idp):
    return make_saml_connection(acme, saml_idp)


@pytest.fixture
def journey(client, saml_idp, acme_saml):
    return SAMLJourney(client, saml_idp, acme_saml)


def test_first_sign_in_creates_the_account_with_jit(client, journey, acme):
    response = journey.sign_in("new@acme.test", "okta-00u1")
    assert response.status_code == 302, response.content
    user = User.objects.get(email="new@acme.test")
    assert client.session.get(SESSION_KEY) == str(user.pk)
    assert FederatedIdentity.objects.get(user=user).subject == "okta-00u1"
    assert Membership.objects.filter(user=user, organization=acme).exists()
    assert (user.first_name, user.last_name) == ("Sam", "Lee")
