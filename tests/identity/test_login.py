from django.urls import reverse

from tests.conftest import sign_in


def test_member_signs_in_through_email_then_password(client, acme_member, password):
    response = sign_in(client, "MAX@Acme.test", password)
    assert response.status_code == 302
    assert response.url == "/account/"
    page = client.get(reverse("jeto_identity:account"))
    assert page.status_code == 200
    assert b"max@acme.test" in page.content
