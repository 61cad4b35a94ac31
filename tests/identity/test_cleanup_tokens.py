"""jeto_cleanup removes exactly what django-oauth-toolkit's cleartokens removes, in small batches."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from oauth2_provider.models import AccessToken, Grant, IDToken, RefreshToken, clear_expired

from jeto_identity.core import cleanup
from jeto_identity.models import Lockout, OAuthClient

pytestmark = pytest.mark.django_db


def _dataset(user):
    now = timezone.now()
    app = OAuthClient.objects.create(
        name="rp", client_type="confidential", authorization_grant_type="authorization-code", user=user
    )
    past, future = now - timedelta(hours=1), now + timedelta(hours=1)
    made = {}
    for i in range(5):
        made[f"expired{i}"] = AccessToken.objects.create(user=user, application=app, token=f"e{i}", expires=past)
    made["live"] = AccessToken.objects.create(user=user, application=app, token="live", expires=future)
    # Expired access token that still has a refresh token: kept (the refresh token can renew it).
    renewable = AccessToken.objects.create(user=user, application=app, token="renewable", expires=past)
    RefreshToken.objects.create(user=user, application=app, token="r-live", access_token=renewable)
    # A revoked refresh token: removed.
    RefreshToken.objects.create(user=user, application=app, token="r-revoked", revoked=now - timedelta(days=1))
    id_old = IDToken.objects.create(user=user, application=app, expires=past)
    id_new = IDToken.objects.create(user=user, application=app, expires=future)
    for name, expires in (("g-old", past), ("g-new", future)):
        Grant.objects.create(
            user=user, application=app, code=name, expires=expires, redirect_uri="https://rp.test/cb", scope="openid"
        )
    return id_old, id_new


def _state():
    return (
        sorted(AccessToken.objects.values_list("token", flat=True)),
        sorted(RefreshToken.objects.values_list("token", flat=True)),
        IDToken.objects.count(),
        sorted(Grant.objects.values_list("code", flat=True)),
    )


def test_same_result_as_cleartokens(acme_member):
    _dataset(acme_member)
    call_command("jeto_cleanup", "--only", "tokens", "--batch-size", "2")
    ours = _state()
    AccessToken.objects.all().delete()
    RefreshToken.objects.all().delete()
    IDToken.objects.all().delete()
    Grant.objects.all().delete()
    OAuthClient.objects.all().delete()
    _dataset(acme_member)
    clear_expired()
    assert ours == _state()
    assert ours[0] == ["live", "renewable"] and ours[3] == ["g-new"]


def test_batches_walk_the_primary_key_and_stop(acme_member):
    _dataset(acme_member)
    seen = []
    _, qs, raw = next(w for w in cleanup.expired_token_querysets() if w[0] == "expired access tokens")
    deleted = cleanup.delete_in_batches(qs, batch_size=2, raw=raw, progress=seen.append)
    assert deleted == 5 and seen == [2, 4, 5]


def test_expired_lockout_rows_are_removed(acme_member):
    now = timezone.now()
    Lockout.objects.create(username="old@x.test", locked_until=now - timedelta(minutes=1))
    Lockout.objects.create(username="new@x.test", locked_until=now + timedelta(minutes=10))
    call_command("jeto_cleanup", "--only", "lockouts")
    assert list(Lockout.objects.values_list("username", flat=True)) == ["new@x.test"]
