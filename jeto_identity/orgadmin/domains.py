"""Self-service domain verification: the organisation publishes a TXT record, we look it up with dnspython.

Adding a domain gives it a random value (``OrganizationDomain.verification_token``). Its owner publishes it as a TXT
record at ``_jeto-challenge.<domain>``; "Verify now" in admin, or ``manage.py jeto_verify_domains``, looks it up and
verifies the domain when the value is there. Only the organisation the row belongs to can be verified by it: the
value is random per row and changes whenever a platform admin renames or moves the domain.

The lookup reads TXT records only, through the resolvers in ``JETO_IDENTITY["DNS_RESOLVERS"]`` (else the system's),
each in turn, within ``DNS_TIMEOUT`` seconds in all. It never connects to an address the domain names, so DNS
rebinding cannot point it at an internal service. CNAMEs are followed (at most ``MAX_CNAME_HOPS``), and a record
split into several strings is joined, as RFC 7208 does for SPF.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import dns.exception
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.resolver
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from jeto_identity.conf import jeto_settings
from jeto_identity.models import OrganizationDomain, User

logger = logging.getLogger("jeto_identity.domains")

CHALLENGE_LABEL = "_jeto-challenge"
MAX_CNAME_HOPS = 8

VERIFIED, MISSING, WRONG_VALUE, TIMEOUT, SERVFAIL, INVALID, CHANGED = (
    "verified",
    "missing",
    "wrong_value",
    "timeout",
    "servfail",
    "invalid_name",
    "changed",
)


class LookupFailed(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class CheckResult:
    code: str
    message: str

    @property
    def verified(self) -> bool:
        return self.code == VERIFIED


def challenge_name(domain: str) -> str:
    return f"{CHALLENGE_LABEL}.{domain}"


def _resolvers() -> list[tuple[str, int] | None]:
    """(address, port) per configured resolver; [None] for the system's own configuration."""
    configured = list(jeto_settings.DNS_RESOLVERS or [])
    if not configured:
        return [None]
    return [parse_resolver(entry) for entry in configured]


def parse_resolver(entry: str) -> tuple[str, int]:
    """``"192.0.2.53"``, ``"192.0.2.53:5353"`` or ``"[2001:db8::53]:53"`` -> (address, port). ValueError if bad."""
    import ipaddress

    entry = str(entry).strip()
    host, port = entry, 53
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        port = int(rest[1:]) if rest.startswith(":") else 53
    elif entry.count(":") == 1:
        host, _, port_text = entry.partition(":")
        port = int(port_text)
    ipaddress.ip_address(host)
    if not 0 < port < 65536:
        raise ValueError(f"port out of range: {port}")
    return host, port


def _resolver(server: tuple[str, int] | None, lifetime: float) -> dns.resolver.Resolver:
    if server is None:
        resolver = dns.resolver.Resolver()  # /etc/resolv.conf
    else:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [server[0]]
        resolver.port = server[1]
    resolver.lifetime = lifetime
    resolver.timeout = lifetime
    resolver.retry_servfail = False
    return resolver


def _query_once(resolver: dns.resolver.Resolver, name: str) -> list[str]:
    """TXT values at ``name`` through one resolver, following CNAMEs the answer does not resolve itself."""
    for _ in range(MAX_CNAME_HOPS + 1):
        try:
            answer = resolver.resolve(name, "TXT", search=False, raise_on_no_answer=True)
        except dns.resolver.NoAnswer as exc:
            target = _cname_target(exc, name)
            if target is None:
                return []
            name = target
            continue
        return [b"".join(rdata.strings).decode("utf-8", "replace") for rdata in answer]
    raise LookupFailed(SERVFAIL, f"The TXT record points through more than {MAX_CNAME_HOPS} CNAMEs.")


def _cname_target(exc: dns.resolver.NoAnswer, name: str) -> str | None:
    response = exc.kwargs.get("response")
    if response is None:
        return None
    current = dns.name.from_text(name)
    target = None
    for _ in range(MAX_CNAME_HOPS):  # the response may hold a chain; its end is where to ask next
        rrset = response.get_rrset(response.answer, current, dns.rdataclass.IN, dns.rdatatype.CNAME)
        if rrset is None:
            break
        current = rrset[0].target
        target = current.to_text()
    return target


def lookup_txt(name: str) -> list[str]:
    """Every TXT value at ``name``. No record is ``[]``; a failure of every resolver raises ``LookupFailed``.

    A resolver that times out or fails (SERVFAIL, refused) is skipped for the next one; an answer that the name or
    record does not exist (NXDOMAIN, no data) is final.
    """
    total = float(jeto_settings.DNS_TIMEOUT)
    deadline = time.monotonic() + total
    servers = _resolvers()
    failure: LookupFailed | None = None
    for index, server in enumerate(servers):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        share = remaining / (len(servers) - index)  # a dead first resolver leaves time for the others
        try:
            return _query_once(_resolver(server, share), name)
        except dns.resolver.NXDOMAIN:
            return []
        except dns.resolver.LifetimeTimeout:
            failure = LookupFailed(
                TIMEOUT, f"The DNS servers did not answer in time ({total:g} s). Try again in a few minutes."
            )
        except (dns.resolver.NoNameservers, dns.resolver.YXDOMAIN, dns.exception.DNSException) as exc:
            logger.info("DNS lookup of %s failed at %s: %s", name, server or "system resolver", type(exc).__name__)
            failure = LookupFailed(
                SERVFAIL,
                f"The DNS servers could not look up {name} (server failure: the domain's DNS may be misconfigured, "
                "or its DNSSEC broken). Check it with your DNS provider, then try again.",
            )
    raise failure or LookupFailed(TIMEOUT, f"The DNS servers did not answer in time ({total:g} s).")


def valid_domain_name(domain: str) -> bool:
    try:
        name = dns.name.from_text(domain)
    except (dns.exception.DNSException, UnicodeError, ValueError):
        return False
    return len(name.labels) >= 3 and not domain.replace(".", "").isdigit()  # at least "example.com." + root


def check(domain: OrganizationDomain, *, actor: User | None = None) -> CheckResult:
    """Look up the domain's challenge; verify it if its value is there. Audited either way."""
    from jeto_identity.audit import services as audit

    if domain.verified:
        return CheckResult(VERIFIED, f"{domain.domain} is already verified.")
    name = challenge_name(domain.domain)
    expected = domain.verification_token
    if not valid_domain_name(domain.domain):
        result = CheckResult(INVALID, f"{domain.domain} is not a domain name that can hold DNS records.")
    else:
        try:
            values = lookup_txt(name)
        except LookupFailed as exc:
            result = CheckResult(exc.code, exc.message)
        else:
            if any(constant_time_compare(v.strip(), expected) for v in values):
                result = CheckResult(VERIFIED, f"Verified {domain.domain}: it now routes sign-in like the others.")
            elif values:
                result = CheckResult(
                    WRONG_VALUE,
                    f"{name} has a TXT record, but not this domain's value. Publish exactly: {expected}",
                )
            else:
                result = CheckResult(
                    MISSING,
                    f"No TXT record at {name} yet. Publish {expected} there (DNS changes can take a while to "
                    "appear), then try again.",
                )
    with transaction.atomic():
        row = OrganizationDomain.objects.select_for_update().select_related("organization").get(pk=domain.pk)
        checked = (domain.domain, domain.organization_id, expected)
        if (row.domain, row.organization_id, row.verification_token) != checked:
            result = CheckResult(CHANGED, "The domain changed while it was being checked; check it again.")
        row.last_checked_at = timezone.now()
        row.last_check_result = result.message[:300]
        fields = ["last_checked_at", "last_check_result"]
        if result.verified and not row.verified:
            row.verified, row.verified_at, row.verification_method = True, timezone.now(), "dns"
            fields += ["verified", "verified_at", "verification_method"]
        row.save(update_fields=fields)  # "verified" changing is audited (domain.changed) by the audit receivers
        audit.record(
            audit.DOMAIN_VERIFICATION,
            actor=actor,
            organization=row.organization,
            subject=row.domain,
            outcome=audit.SUCCESS if result.verified else audit.FAILURE,
            domain=row.domain,
            method="dns",
            result=result.code,
        )
    domain.refresh_from_db()
    return result


def pending_domains():
    return OrganizationDomain.objects.filter(verified=False).select_related("organization").order_by("pk")
