"""The MTA servers of a domain: port 25 of every MX address, IPv4 and IPv6, as a sending server sees it.

The plan asks, in up to three rounds after the MX lookup (``mx_plan``, shared with the DNS category):

1. one SMTP session per MX address (``ServiceRequest``): greeting, EHLO, VRFY/EXPN, the open-relay test
   (MAIL FROM an outside ``.example`` address, RCPT TO another outside ``.example`` address, RSET — never
   DATA), RCPT TO a random user of the domain (rejected at RCPT time, or accepted and bounced later),
   STARTTLS with one real handshake and the certificate chain, EHLO again over TLS; the SMTP smuggling
   probe only when the user named a recipient for it (``--intrusive``);
2. a TLS scan (``TlsScanRequest``, STARTTLS) of every address whose handshake completed;
3. the DANE and MTA-STS observations (their DNS answers are already cached by their own observers),
   which the checks match against the presented certificates.

The random recipient is derived from the domain and the scan time, so a replayed snapshot asks the same.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from mimawari.lookup import Plan, probe
from mimawari.model import Status, Target
from mimawari.observations import Observer
from mimawari.observations.dane import DaneObservation, dane_plan
from mimawari.observations.mta_sts import MtaStsObservation, mta_sts_plan
from mimawari.observations.mx import MxObservation, ReverseDns, mx_plan
from mimawari.probes import (
    MailProtocol,
    ServiceRequest,
    ServiceSession,
    StartTls,
    TlsEndpoint,
    TlsScan,
    TlsScanRequest,
)

SMTP_PORT = 25
MAX_MX_HOSTS = 8
MAX_ADDRESSES_PER_FAMILY = 2
"""Addresses probed per MX host and address family; many MX hosts share one configuration."""
RELAY_FROM = "relay-test@mimawari-probe.example"
RELAY_TO = "relay-test@relay-target.example"
"""RFC 2606 names: an open relay that accepted them could never deliver, so the test harms no one."""


@dataclass(frozen=True)
class MtaServer:
    """One MX host at one address: the SMTP session, and the TLS scan when its handshake completed."""

    host: str
    preference: int
    session: ServiceSession
    scan: TlsScan | None = None
    reverse: ReverseDns | None = None
    """The PTR names of the address (from the MX observation), for the banner-name check."""

    @property
    def address(self) -> str:
        return self.session.request.address

    @property
    def endpoint(self) -> TlsEndpoint:
        return TlsEndpoint(self.host, self.session, self.scan)


@dataclass(frozen=True)
class MtaObservation:
    """``status`` follows the MX lookup: PRESENT when there are MX hosts to probe, NOT_APPLICABLE for a
    domain that receives no mail (Null MX, no MX), TIMEOUT/ERROR when the MX lookup failed."""

    domain: str
    status: Status
    mx: MxObservation
    servers: tuple[MtaServer, ...] = ()
    unresolved: tuple[str, ...] = ()
    """MX hosts with no address to probe (their lookups are in ``mx``)."""
    dane: DaneObservation | None = None
    mta_sts: MtaStsObservation | None = None
    observed_at: int = 0
    intrusive: bool = False
    """True when the SMTP smuggling probe ran (the user named a recipient)."""

    def tls_endpoints(self) -> tuple[TlsEndpoint, ...]:
        """Every server, for the shared TLS verdicts: they grade the handshakes and scans there are, call
        a server that timed out unknown and leave one without STARTTLS to ``email.mta.starttls``."""
        return tuple(s.endpoint for s in self.servers)

    @property
    def answered(self) -> tuple[MtaServer, ...]:
        return tuple(s for s in self.servers if s.session.status is Status.PRESENT)


def unknown_recipient(target: Target) -> str:
    """A local part no one has, the same for every replay of this scan: ``mimawari-<hex>@domain``."""
    token = hashlib.sha256(f"{target.domain} {target.moment()}".encode()).hexdigest()[:12]
    return f"mimawari-{token}@{target.domain}"


def smtp_request(target: Target, host: str, address: str) -> ServiceRequest:
    return ServiceRequest(
        MailProtocol.SMTP,
        host,
        address,
        SMTP_PORT,
        vrfy=True,
        relay_from=RELAY_FROM,
        relay_to=RELAY_TO,
        unknown_recipient=unknown_recipient(target),
        smuggling_recipient=target.smuggling_recipient,
    )


def mta_plan(target: Target) -> Plan[MtaObservation]:
    moment = target.moment()
    mx = yield from mx_plan(target)
    hosts = mx.mail_hosts[:MAX_MX_HOSTS]
    if mx.status is not Status.PRESENT or not hosts:
        status = mx.status if not mx.status.answered else Status.NOT_APPLICABLE
        return MtaObservation(target.domain, status, mx, observed_at=moment)
    reverse = {r.address: r for r in mx.reverse}
    chosen = [
        (host, address)
        for host in hosts
        for lookup in host.lookups
        for address in [a.address for a in lookup.addresses][:MAX_ADDRESSES_PER_FAMILY]
    ]
    unresolved = tuple(h.exchange for h in hosts if not h.addresses)
    sessions = yield from probe(*(smtp_request(target, h.exchange, a) for h, a in chosen))
    handshaken = [
        s for s in sessions if isinstance(s, ServiceSession) and s.tls and s.tls.status is Status.PRESENT
    ]
    scans = yield from probe(
        *(
            TlsScanRequest(s.request.host, s.request.address, s.request.port, StartTls.SMTP)
            for s in handshaken
        )
    )
    scan_of = {(s.request.host, s.request.address): s for s in scans if isinstance(s, TlsScan)}
    servers = tuple(
        MtaServer(
            host.exchange,
            host.preference,
            session,
            scan_of.get((host.exchange, address)),
            reverse.get(address),
        )
        for (host, address), session in zip(chosen, sessions, strict=True)
        if isinstance(session, ServiceSession)
    )
    dane = yield from dane_plan(target)
    mta_sts = yield from mta_sts_plan(target)
    return MtaObservation(
        target.domain,
        Status.PRESENT,
        mx,
        servers,
        unresolved,
        dane,
        mta_sts,
        moment,
        intrusive=bool(target.smuggling_recipient),
    )


MTA = Observer("mta", mta_plan)
