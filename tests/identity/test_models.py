import uuid

import pytest
from django.db import IntegrityError, transaction

from jeto_identity.models import Membership, OrganizationDomain, Role, User


@pytest.mark.django_db
def test_email_is_case_insensitive_identity(make_user):
    user = make_user("Alice@X.com")
    assert user.email == "alice@x.com"
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(email="alice@X.COM", password="whatever-long-pass")
    assert User.objects.get_by_natural_key("ALICE@x.com") == user


@pytest.mark.django_db
def test_case_insensitive_uniqueness_holds_in_the_database_too(make_user):
    make_user("bob@x.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        # Bypass save()'s normalisation: the functional unique constraint still refuses it.
        User.objects.bulk_create([User(email="BOB@x.com")])


@pytest.mark.django_db
def test_primary_key_is_a_uuid(make_user):
    assert isinstance(make_user("c@x.com").pk, uuid.UUID)


@pytest.mark.django_db
def test_domain_belongs_to_one_organisation(acme, globex):
    with pytest.raises(IntegrityError), transaction.atomic():
        OrganizationDomain.objects.create(organization=globex, domain="ACME.test")


@pytest.mark.django_db
def test_one_membership_per_user_and_organisation(acme_member, acme):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=acme_member, organization=acme, role=Role.ADMIN)


@pytest.mark.django_db
def test_superuser_creation(db):
    admin = User.objects.create_superuser("Root@Example.com", "a-long-enough-password")
    assert admin.is_staff and admin.is_superuser and admin.email == "root@example.com"
