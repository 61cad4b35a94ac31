"""The SAML sign-in, free of views: send the person to the IdP (``start``), accept its answer (``consume``).

SP-initiated: ``start`` keeps the AuthnRequest's ID in the session; the response must answer that request
(``InResponseTo``), and each request ID is accepted once, across every node. IdP-initiated (unsolicited) responses
are refused unless the connection allows them. Each assertion ID is accepted once, until it expires.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import logging
import time
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.response import StatusError, UnsolicitedResponse, VerificationError
from saml2.sigver import DecryptError, MissingKey, SignatureError, SigverError
from saml2.validate import ResponseLifetimeExceed, ToEarly
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from jeto_identity.conf import jeto_settings
from jeto_identity.sso import http
from jeto_identity.sso.saml import attributes, metadata, policy, replay, sp
from jeto_identity.sso.saml.policy import ResponseRejected

logger = logging.getLogger("jeto_identity.sso")

REQUESTS_SESSION_KEY = "jeto_saml_requests"
MAX_PENDING_REQUESTS = 5
MAX_RESPONSE_CHARS = 512 * 1024


@dataclass(frozen=True)
class ConsumedResponse:
    claims: dict[str, Any]
    unsolicited: bool


def start(request: HttpRequest, connection: Any) -> str:
    """An AuthnRequest for the connection's IdP (HTTP-Redirect, signed unless switched off): the URL to send the
    browser to. Raises ``http.IdPError`` (misconfigured) / ``http.IdPUnreachable`` / ``crypto.DecryptionError``."""
    metadata.refresh_if_stale(connection)
    meta = metadata.current(connection)
    sign = bool(connection.saml_sign_requests)
    with sp.client(request, connection) as client:
        request_id, info = client.prepare_for_authenticate(
            entityid=meta.entity_id,
            binding=BINDING_HTTP_REDIRECT,
            sign=sign,
            sigalg=SIG_RSA_SHA256 if sign else None,
            digest_alg=DIGEST_SHA256 if sign else None,
            nameid_format=connection.saml_nameid_format,
        )
    location = dict(info["headers"]).get("Location", "")
    http.check_url(location, "IdP single sign-on URL")
    _remember_request(request, connection, request_id)
    return location


def _remember_request(request: HttpRequest, connection: Any, request_id: str) -> None:
    pending = request.session.get(REQUESTS_SESSION_KEY)
    pending = pending if isinstance(pending, dict) else {}
    pending[request_id] = {"connection": str(connection.public_id), "at": int(time.time())}
    newest = sorted(pending.items(), key=lambda item: item[1].get("at", 0))[-MAX_PENDING_REQUESTS:]
    request.session[REQUESTS_SESSION_KEY] = dict(newest)


def _outstanding(request: HttpRequest, connection: Any) -> dict[str, str]:
    """This session's fresh requests to this connection's IdP."""
    pending = request.session.get(REQUESTS_SESSION_KEY)
    if not isinstance(pending, dict):
        return {}
    max_age = int(jeto_settings.SSO_STATE_MAX_AGE)
    return {
        request_id: "/"
        for request_id, entry in pending.items()
        if isinstance(entry, dict)
        and entry.get("connection") == str(connection.public_id)
        and 0 <= time.time() - int(entry.get("at") or 0) <= max_age
    }


def _forget_request(request: HttpRequest, request_id: str) -> None:
    pending = request.session.get(REQUESTS_SESSION_KEY)
    if isinstance(pending, dict) and request_id in pending:
        del pending[request_id]
        request.session.modified = True


def _decode(raw: str) -> bytes:
    if not raw or len(raw) > MAX_RESPONSE_CHARS:
        raise ResponseRejected("malformed", "no SAMLResponse, or too large")
    try:
        return base64.b64decode("".join(raw.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ResponseRejected("malformed", "SAMLResponse is not base64") from None


def _parse(request: HttpRequest, connection: Any, raw: str, outstanding: dict[str, str]) -> Any:
    """pysaml2's checks: signatures (xmlsec1), decryption, times, InResponseTo, status. Maps its errors to reasons."""
    try:
        with sp.client(request, connection) as client:
            response = client.parse_authn_request_response(raw, BINDING_HTTP_POST, outstanding=outstanding)
    except UnsolicitedResponse:
        raise ResponseRejected("unsolicited", "a response to a request this browser didn't make") from None
    except ResponseLifetimeExceed:
        raise ResponseRejected("expired", "the assertion's NotOnOrAfter has passed") from None
    except ToEarly:
        raise ResponseRejected("not_yet_valid", "the assertion's NotBefore is in the future") from None
    except DecryptError:
        raise ResponseRejected("decrypt", "the encrypted assertion can't be decrypted with our key") from None
    except (SignatureError, MissingKey, SigverError) as exc:
        raise ResponseRejected("signature", exc.__class__.__name__) from None
    except StatusError as exc:
        raise ResponseRejected("idp_status", exc.__class__.__name__) from None
    except VerificationError as exc:
        reason = "conditions" if "Condition" in str(exc) else "subject_confirmation"
        raise ResponseRejected(reason, str(exc)[:100]) from None
    except http.IdPError:
        raise
    except Exception as exc:  # pysaml2 raises bare Exception (audience), SAMLError, ValueError, XML errors…
        reason = "audience" if "AudienceRestriction" in str(exc) else "invalid"
        raise ResponseRejected(reason, f"{exc.__class__.__name__}: {str(exc)[:100]}") from None
    if response is None:  # pysaml2's own refusals without an exception: wrong Destination, IssueInstant, version
        raise ResponseRejected("invalid", "pysaml2 refused the response")
    return response


def consume(request: HttpRequest, connection: Any) -> ConsumedResponse:
    """Verify the IdP's POSTed response and reduce it to claims. Raises ``ResponseRejected`` with a reason."""
    raw = request.POST.get("SAMLResponse", "")
    xml = _decode(raw)
    acs = sp.acs_url(request, connection)
    sp_entity = sp.entity_id(request, connection)
    encrypted = policy.check_document(xml, acs_url=acs, allow_sha1=bool(connection.saml_allow_sha1))
    meta = metadata.current(connection)
    outstanding = _outstanding(request, connection)
    response = _parse(request, connection, raw, outstanding)
    policy.check_parsed(
        response,
        sp_entity_id=sp_entity,
        acs_url=acs,
        allow_sha1=bool(connection.saml_allow_sha1),
        encrypted=encrypted,
    )
    issuer = response.assertion.issuer.text.strip() if response.assertion.issuer is not None else ""
    if issuer != meta.entity_id:
        raise ResponseRejected("issuer", "the assertion was issued by another IdP")

    in_response_to = response.in_response_to
    if in_response_to:
        if in_response_to not in outstanding:
            raise ResponseRejected("unsolicited", "a response to a request this browser didn't make")
        _forget_request(request, in_response_to)
        if not replay.first_use("request", connection.pk, in_response_to, jeto_settings.SSO_STATE_MAX_AGE):
            raise ResponseRejected("replay", "this request was already answered")
    elif not connection.saml_allow_idp_initiated:
        raise ResponseRejected("unsolicited", "IdP-initiated sign-in is off for this connection")

    skew = int(jeto_settings.SSO_SAML_CLOCK_SKEW)
    expires = calendar.timegm(time.gmtime()) + skew
    if response.not_on_or_after:
        expires = int(response.not_on_or_after) + skew
    if not replay.first_use("assertion", connection.pk, response.assertion.id or "", expires - time.time()):
        raise ResponseRejected("replay", "this assertion was already used")
    claims = attributes.claims(connection, response.name_id, response.assertion)
    return ConsumedResponse(claims=claims, unsolicited=not in_response_to)
