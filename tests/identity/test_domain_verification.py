"""Domain verification by DNS against a real DNS server on loopback (dnslib), through dnspython."""

from __future__ import annotations

import time

import pytest
from django.core.management import call_command
from django.test import override_settings

from jeto_identity.audit import services as audit
from jeto_identity.models import AuditEvent, OrganizationDomain
from jeto_identity.orgadmin import domains
from jeto_identity.sso import services as sso
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


def resolvers(*addresses: str, timeout: float = 2.0):
    return override_settings(JETO_IDENTITY={"DNS_RESOLVERS": list(addresses), "DNS_TIMEOUT": timeout})


@pytest.fixture
def pending(acme) -> OrganizationDomain:
    return OrganizationDomain.objects.create(organization=acme, domain="acme-corp.example")


def publish(zone, domain: OrganizationDomain, *values: list[str]) -> None:
    zone.records[domains.challenge_name(domain.domain)] = ("TXT", list(values) or [[domain.verification_token]])


def test_a_new_domain_gets_its_own_random_challenge(acme, globex, pending):
    other = OrganizationDomain.objects.create(organization=globex, domain="globex-corp.example")
    assert pending.verification_token.startswith("jeto-verification=") and len(pending.verification_token) > 30
    assert pending.verification_token != other.verification_token
    assert not pending.verified


def test_the_published_value_verifies_it_and_it_starts_routing(dns_server, pending, acme):
    zone, address = dns_server
    publish(zone, pending)
    with resolvers(address):
        result = domains.check(pending)
    assert result.verified, result.message
    pending.refresh_from_db()
    assert (pending.verified, pending.verification_method) == (True, "dns")
    assert sso.organization_for_email("pat@acme-corp.example") == acme
    event = AuditEvent.objects.get(event=audit.DOMAIN_VERIFICATION)
    assert (event.outcome, event.details["result"], event.organization_id) == ("success", "verified", acme.pk)
    assert AuditEvent.objects.filter(event=audit.DOMAIN_CHANGED, subject="acme-corp.example").exists()


def test_a_value_split_into_strings_and_among_other_records_counts(dns_server, pending):
    zone, address = dns_server
    token = pending.verification_token
    publish(zone, pending, ["v=spf1 -all"], [token[:10], token[10:]])
    with resolvers(address):
        assert domains.check(pending).verified


def test_a_cname_chain_is_followed(dns_server, pending):
    zone, address = dns_server
    zone.records[domains.challenge_name(pending.domain)] = ("CNAME", "hop.dns-provider.example")
    zone.records["hop.dns-provider.example"] = ("CNAME", "final.dns-provider.example")
    zone.records["final.dns-provider.example"] = ("TXT", [[pending.verification_token]])
    with resolvers(address):
        assert domains.check(pending).verified
    assert "final.dns-provider.example" in zone.queries


def test_a_wrong_value_is_refused_with_what_to_publish(dns_server, pending, globex):
    zone, address = dns_server
    # Another organisation's value for a name it also wanted proves nothing for this row.
    squatter = OrganizationDomain.objects.create(organization=globex, domain="other.example")
    publish(zone, pending, [squatter.verification_token])
    with resolvers(address):
        result = domains.check(pending)
    assert result.code == domains.WRONG_VALUE and pending.verification_token in result.message
    pending.refresh_from_db()
    assert not pending.verified and pending.last_check_result == result.message
    assert AuditEvent.objects.get(event=audit.DOMAIN_VERIFICATION).outcome == "failure"


def test_a_missing_record(dns_server, pending):
    _, address = dns_server
    with resolvers(address):
        result = domains.check(pending)
    assert result.code == domains.MISSING and "_jeto-challenge.acme-corp.example" in result.message
    assert not OrganizationDomain.objects.get(pk=pending.pk).verified


def test_servfail_is_a_clear_failure(dns_server, pending):
    zone, address = dns_server
    zone.records[domains.challenge_name(pending.domain)] = "SERVFAIL"
    with resolvers(address):
        result = domains.check(pending)
    assert result.code == domains.SERVFAIL and "server failure" in result.message
    assert not OrganizationDomain.objects.get(pk=pending.pk).verified


def test_a_silent_resolver_times_out_within_the_bound(silent_resolver, pending):
    started = time.monotonic()
    with resolvers(silent_resolver, timeout=1.0):
        result = domains.check(pending)
    assert result.code == domains.TIMEOUT and "did not answer in time" in result.message
    assert time.monotonic() - started < 3


def test_a_dead_first_resolver_falls_over_to_the_next(silent_resolver, dns_server, pending):
    zone, address = dns_server
    publish(zone, pending)
    with resolvers(silent_resolver, address, timeout=2.0):
        assert domains.check(pending).verified


def test_moving_a_domain_needs_a_new_proof(dns_server, pending, globex):
    zone, address = dns_server
    old_token = pending.verification_token
    publish(zone, pending)
    pending.organization = globex
    pending.save()
    assert pending.verification_token != old_token
    with resolvers(address):
        assert domains.check(pending).code == domains.WRONG_VALUE


def test_the_periodic_command_verifies_pending_domains(dns_server, pending, capsys):
    zone, address = dns_server
    publish(zone, pending)
    with resolvers(address):
        call_command("jeto_verify_domains")
    assert "1 of 1 pending domain(s) verified." in capsys.readouterr().out
    assert OrganizationDomain.objects.get(pk=pending.pk).verified


def test_an_org_admin_verifies_from_admin_and_cannot_reach_another_orgs_domain(
    client, dns_server, pending, acme_admin, globex, password
):
    zone, address = dns_server
    foreign = OrganizationDomain.objects.create(organization=globex, domain="globex-corp.example")
    publish(zone, pending)
    publish(zone, foreign)
    sign_in(client, acme_admin.email, password)
    page = client.get(f"/admin/jeto_identity/organizationdomain/{pending.pk}/change/").content.decode()
    assert pending.verification_token in page and 'data-testid="verify-now"' in page
    with resolvers(address):
        assert client.get(f"/admin/jeto_identity/organizationdomain/{pending.pk}/verify/").status_code == 405
        foreign_response = client.post(f"/admin/jeto_identity/organizationdomain/{foreign.pk}/verify/")
        response = client.post(f"/admin/jeto_identity/organizationdomain/{pending.pk}/verify/")
    assert foreign_response.status_code == 404
    assert response.status_code == 302
    assert OrganizationDomain.objects.get(pk=pending.pk).verified
    assert not OrganizationDomain.objects.get(pk=foreign.pk).verified


def test_an_org_admin_cannot_tick_verified(client, pending, acme_admin, password):
    sign_in(client, acme_admin.email, password)
    client.post(
        f"/admin/jeto_identity/organizationdomain/{pending.pk}/change/",
        {"domain": pending.domain, "organization": pending.organization_id, "verified": "on"},
    )
    assert not OrganizationDomain.objects.get(pk=pending.pk).verified


def test_a_platform_admin_still_verifies_by_hand(client, pending, superuser, password):
    sign_in(client, superuser.email, password)
    response = client.post(
        f"/admin/jeto_identity/organizationdomain/{pending.pk}/change/",
        {"domain": pending.domain, "organization": pending.organization_id, "verified": "on"},
    )
    assert response.status_code == 302
    pending.refresh_from_db()
    assert (pending.verified, pending.verification_method) == (True, "manual")


@pytest.mark.parametrize("entry", ["127.0.0.1", "127.0.0.1:5353", "[::1]:53"])
def test_resolver_entries_parse(entry):
    assert domains.parse_resolver(entry)[0] in ("127.0.0.1", "::1")


@pytest.mark.parametrize("entry", ["dns.example", "127.0.0.1:0", "1.2.3.4:x"])
def test_bad_resolver_entries_are_refused(entry):
    with pytest.raises(ValueError):
        domains.parse_resolver(entry)
