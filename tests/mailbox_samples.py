"""Recorded mailbox snapshots made short: DNS answers, sessions and TLS scans as a mail client sees them."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import replace

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mimawari.check import registry
from mimawari.checks.email import mailbox
from mimawari.lab.ca import CertMode, LabCa
from mimawari.lookup import HttpRequest, HttpResponse, Response, Snapshot, replay
from mimawari.model import Finding, Status
from mimawari.observations.mailbox import MailboxObservation, MailService, mailbox_plan
from mimawari.observations.mailbox_discovery import AUTOCONFIG_PATH, COMMON_NAMES
from mimawari.probes import (
    GroupSupport,
    Reply,
    ServiceRequest,
    ServiceSession,
    StartTls,
    TlsHandshake,
    TlsScan,
    TlsScanRequest,
    VersionSupport,
)
from tests.helpers import finding, recorded

DOMAIN = "example.test"
V4 = "203.0.113.10"
V6 = "2001:db8::10"
IMAP_HOST = f"imap.{DOMAIN}"
AUTOCONFIG_HOST = f"autoconfig.{DOMAIN}"
AUTOCONFIG_URL = f"https://{AUTOCONFIG_HOST}{AUTOCONFIG_PATH}"
AUTOCONFIG_ADDRESS = "203.0.113.80"
CHECKS = registry(mailbox.CHECKS)

Answers = dict[str, str | Sequence[str]]

GREETINGS = {
    "imap": "* OK [CAPABILITY IMAP4rev1 SASL-IR STARTTLS LOGINDISABLED] Dovecot ready.",
    "pop3": "+OK Dovecot ready.",
    "smtp": "mail.example.test ESMTP Postfix",
}
CAPABILITIES = {
    "imap": ("IMAP4REV1", "SASL-IR", "STARTTLS", "LOGINDISABLED"),
    "pop3": ("TOP", "UIDL", "RESP-CODES", "PIPELINING", "STLS"),
    "smtp": ("PIPELINING", "SIZE 10240000", "STARTTLS", "ENHANCEDSTATUSCODES", "8BITMIME"),
}
CAPABILITIES_TLS = {
    "imap": ("IMAP4REV1", "SASL-IR", "AUTH=PLAIN"),
    "pop3": ("TOP", "UIDL", "USER", "SASL PLAIN"),
    "smtp": ("PIPELINING", "SIZE 10240000", "AUTH PLAIN LOGIN", "8BITMIME"),
}


def answers(extra: Mapping[str, str | Sequence[str]] | None = None) -> Answers:
    """Nothing published (every SRV NODATA, every common name and the autoconfig host NXDOMAIN), then
    ``extra``: ``{"imap.example.test A": [V4]}``."""
    given: Answers = {f"{s.srv_name(DOMAIN)} SRV": "NODATA" for s in MailService}
    for name in (*(f"{label}.{DOMAIN}" for label in COMMON_NAMES), AUTOCONFIG_HOST):
        given[f"{name} A"] = "NXDOMAIN"
        given[f"{name} AAAA"] = "NXDOMAIN"
    given.update(extra or {})
    return given


def host(name: str = IMAP_HOST, v4: Sequence[str] = (V4,), v6: Sequence[str] = ()) -> Answers:
    return {f"{name} A": list(v4) if v4 else "NODATA", f"{name} AAAA": list(v6) if v6 else "NODATA"}


def request(service: MailService, name: str = IMAP_HOST, address: str = V4, port: int = 0) -> ServiceRequest:
    return ServiceRequest(
        service.protocol, name, address, port or service.port, implicit_tls=service.implicit_tls
    )


def greeted(
    service: MailService,
    name: str = IMAP_HOST,
    *,
    greeting: str | None = None,
    capabilities: Sequence[str] | None = None,
    tls: Status | None = Status.PRESENT,
    starttls_refused: bool = False,
    address: str = V4,
    port: int = 0,
    chain: Sequence[str] = (),
    trusted: bool | None = True,
) -> ServiceSession:
    """A session that greeted; STARTTLS is offered when the capabilities name it (STLS for POP3)."""
    protocol = service.protocol.value
    smtp = protocol == "smtp"
    text = GREETINGS[protocol] if greeting is None else greeting
    caps = tuple(CAPABILITIES[protocol] if capabilities is None else capabilities)
    handshake = None
    if tls is not None:
        detail = "" if tls is Status.PRESENT else "handshake failure"
        handshake = TlsHandshake(
            tls, "TLSv1.3", "TLS_AES_128_GCM_SHA256", tuple(chain), trusted, detail=detail
        )
    session = ServiceSession(
        request(service, name, address, port),
        Status.PRESENT,
        connect_ms=5.0,
        greeting=Reply(220 if smtp else 0, (text,)),
    )
    if service.implicit_tls:
        return replace(session, tls=handshake, capabilities_tls=caps)
    offered = any(c.split(" ")[0] in ("STARTTLS", "STLS") for c in caps)
    session = replace(session, capabilities=caps, starttls_offered=offered)
    if not offered:
        return session
    if starttls_refused:
        refusal = {"imap": "m2 NO STARTTLS unavailable", "pop3": "-ERR not now", "smtp": "TLS not available"}
        return replace(session, starttls=Reply(454 if smtp else 0, (refusal[protocol],)))
    accepted = Reply(
        220 if smtp else 0, ({"imap": "m2 OK Begin TLS", "pop3": "+OK Begin TLS"}.get(protocol, "Ready"),)
    )
    secured = handshake is not None and handshake.status is Status.PRESENT
    return replace(
        session,
        starttls=accepted,
        tls=handshake,
        capabilities_tls=CAPABILITIES_TLS[protocol] if secured else (),
    )


def refused(service: MailService, name: str = IMAP_HOST, address: str = V4, port: int = 0) -> ServiceSession:
    return ServiceSession(request(service, name, address, port), Status.ERROR, "connection refused")


def timed_out(
    service: MailService, name: str = IMAP_HOST, address: str = V4, port: int = 0, *, connected: bool = False
) -> ServiceSession:
    return ServiceSession(
        request(service, name, address, port),
        Status.TIMEOUT,
        "no answer within 10 s",
        connect_ms=5.0 if connected else None,
    )


def handshake_failed(service: MailService, name: str = IMAP_HOST, address: str = V4) -> ServiceSession:
    tls = TlsHandshake(Status.ERROR, detail="wrong version number")
    return ServiceSession(request(service, name, address), Status.ERROR, tls.detail, connect_ms=5.0, tls=tls)


def every_port(name: str = IMAP_HOST, address: str = V4, /, **given: ServiceSession) -> list[ServiceSession]:
    """A session for each of the six standard ports: the ones given (by service name), the rest refused."""
    return [given.get(s.value) or refused(s, name, address) for s in MailService]


GOOD_VERSIONS = (
    VersionSupport("TLSv1.3", Status.PRESENT, ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384")),
    VersionSupport(
        "TLSv1.2", Status.PRESENT, ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",), server_order=True
    ),
    VersionSupport("TLSv1.1", Status.ABSENT),
    VersionSupport("TLSv1.0", Status.ABSENT),
    VersionSupport("SSLv3", Status.ABSENT),
)
OLD_VERSIONS = (
    VersionSupport(
        "TLSv1.2", Status.PRESENT, ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",), server_order=True
    ),
    VersionSupport("TLSv1.0", Status.PRESENT, ("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",)),
)


def scanned(session: ServiceSession, versions: Sequence[VersionSupport] = GOOD_VERSIONS) -> TlsScan:
    """The TLS scan the plan asks for after ``session``'s handshake."""
    r = session.request
    starttls = StartTls.NONE if r.implicit_tls else StartTls(r.protocol.value)
    scan_request = TlsScanRequest(r.host, r.address, r.port, starttls)
    groups = (GroupSupport("x25519", Status.PRESENT), GroupSupport("secp256r1", Status.PRESENT))
    return TlsScan(scan_request, Status.PRESENT, tuple(versions), groups, connections=9)


def certificate_chain(name: str, mode: CertMode = CertMode.VALID) -> tuple[str, ...]:
    """A leaf from the lab CA as the session's base64 DER chain."""
    with LabCa() as ca, open(ca.issue(name, mode).cert_file, "rb") as handle:
        der = x509.load_pem_x509_certificate(handle.read()).public_bytes(serialization.Encoding.DER)
    return (base64.b64encode(der).decode(),)


def served(body: str, status: int = 200) -> HttpResponse:
    request = HttpRequest(AUTOCONFIG_URL, AUTOCONFIG_ADDRESS)
    return HttpResponse(request, Status.PRESENT, status, "application/xml", body)


def autoconfig_host() -> Answers:
    return host(AUTOCONFIG_HOST, (AUTOCONFIG_ADDRESS,))


def snapshot(given: Answers, *responses: Response) -> Snapshot:
    return recorded(DOMAIN, given).patched(*responses)


def observe(snap: Snapshot) -> MailboxObservation:
    return replay(mailbox_plan(snap.target), snap)


def check(check_id: str, snap: Snapshot) -> Finding:
    return finding(snap, f"email.mailbox.{check_id}", CHECKS)
