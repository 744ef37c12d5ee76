"""Mailbox and submission servers of a domain (IMAP, POP3, message submission), as a mail client sees them.

Hosts are found by ``mailbox_discovery`` (SRV records, the autoconfig hint, common names such as
``imap.``). One address per family per host is probed (the first IPv4 and IPv6), and an address
and port only once, under the first name that leads to it (a wildcard record gives every guessed name the
same server). Every candidate gets one session (``ServiceRequest``), all at once; every session whose TLS
handshake completed then gets a TLS scan (``TlsScanRequest``, through STARTTLS/STLS or directly).

What a session that did not talk means (``MailboxService.reach``):

* a refused connection (or one closed before a greeting): the service is not offered there;
* a connect timeout (or silence) on a name-*guessed* candidate: no service there — firewalls drop
  connections to closed ports, and a guessed name is no promise that anything listens (``FILTERED``);
* a timeout on an *advertised* (SRV or autoconfig) candidate: unknown for that service;
* a failed handshake on an implicit-TLS port: a service whose TLS is broken (``TLS_FAILED``).

``status``: PRESENT when any service answered; NOT_APPLICABLE when no mailbox or submission service was
found at all (nothing to grade: N/A, not a failure); TIMEOUT (or ERROR) when nothing answered and the
answer may have been missed — an advertised service or host timed out, *every* candidate timed out, or
a discovery lookup failed. ``problem`` then names what failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from mimawari.lookup import Plan, probe
from mimawari.model import Evidence, Status, Target
from mimawari.observations import Observer
from mimawari.observations.hosts import AddressLookup
from mimawari.observations.mailbox_discovery import (
    Autoconfig,
    Candidate,
    Discovery,
    DroppedHost,
    MailboxHost,
    MailService,
    SrvLookup,
    discovery_plan,
)
from mimawari.probes import ServiceRequest, ServiceSession, TlsEndpoint, TlsScan, TlsScanRequest

__all__ = [
    "MAILBOX",
    "MailService",
    "MailboxObservation",
    "MailboxService",
    "Reach",
    "mailbox_plan",
]


class Reach(StrEnum):
    """What a session says about the service at its address and port."""

    ANSWERED = "answered"
    TLS_FAILED = "tls-failed"
    """An implicit-TLS port where the handshake failed: a service, with broken TLS."""
    REFUSED = "refused"
    """Refused, or closed before a greeting: not offered there."""
    FILTERED = "filtered"
    """A guessed candidate that never answered: counted as not offered."""
    UNKNOWN = "unknown"
    """An advertised candidate that never answered: undecided."""


@dataclass(frozen=True)
class MailboxService:
    host: str
    service: MailService
    advertised: bool
    session: ServiceSession
    scan: TlsScan | None = None

    @property
    def address(self) -> str:
        return self.session.request.address

    @property
    def port(self) -> int:
        return self.session.request.port

    @property
    def reach(self) -> Reach:
        session = self.session
        if session.status is Status.PRESENT:
            return Reach.ANSWERED
        if self.service.implicit_tls and session.tls is not None and session.tls.status is Status.ERROR:
            return Reach.TLS_FAILED
        if session.status is Status.TIMEOUT:
            return Reach.UNKNOWN if self.advertised else Reach.FILTERED
        return Reach.REFUSED

    @property
    def present(self) -> bool:
        return self.reach in (Reach.ANSWERED, Reach.TLS_FAILED)

    @property
    def endpoint(self) -> TlsEndpoint:
        return TlsEndpoint(self.host, self.session, self.scan)

    @property
    def label(self) -> str:
        """``imap.example.com 203.0.113.5:993 (imaps)`` for evidence."""
        return f"{self.endpoint.label} ({self.service.value})"

    def evidence(self, value: str | None = None) -> Evidence:
        return Evidence(self.label, self.session.describe() if value is None else value)


@dataclass(frozen=True)
class MailboxObservation:
    """See the module docstring for how ``status`` is decided."""

    domain: str
    status: Status
    srv: tuple[SrvLookup, ...] = ()
    common_names: tuple[AddressLookup, ...] = ()
    autoconfig: Autoconfig | None = None
    hosts: tuple[MailboxHost, ...] = ()
    dropped: tuple[DroppedHost, ...] = ()
    services: tuple[MailboxService, ...] = ()
    observed_at: int = 0
    """The scan's moment (``Target.moment``): certificates are judged at it."""
    problem: str = ""
    """What left the observation undecided (TIMEOUT / ERROR), as ``source: outcome``."""

    @property
    def present(self) -> tuple[MailboxService, ...]:
        return tuple(s for s in self.services if s.present)

    @property
    def undecided(self) -> tuple[MailboxService, ...]:
        return tuple(s for s in self.services if s.reach is Reach.UNKNOWN)

    @property
    def unresolved(self) -> tuple[MailboxHost, ...]:
        """Advertised hosts whose address lookups failed: their services are undecided."""
        return tuple(h for h in self.hosts if h.advertised and h.resolution in (Status.TIMEOUT, Status.ERROR))

    def tls_endpoints(self) -> tuple[TlsEndpoint, ...]:
        """The services that attempted TLS, with their scans, for the shared TLS verdicts, and the
        advertised ones that never answered, so the verdicts name them as not examined."""
        return tuple(
            s.endpoint for s in self.services if s.session.tls is not None or s.reach is Reach.UNKNOWN
        )

    def discovery_evidence(self) -> tuple[Evidence, ...]:
        evidence = [lookup.evidence() for lookup in self.srv]
        if self.autoconfig is not None:
            evidence.append(self.autoconfig.evidence())
        evidence += [lookup.evidence() for lookup in self.common_names if lookup.status is not Status.ABSENT]
        evidence += [Evidence(f"{d.name} (not probed)", d.reason) for d in self.dropped]
        return tuple(evidence)


def observation_status(services: tuple[MailboxService, ...], found: Discovery) -> tuple[Status, str]:
    if any(s.present for s in services):
        return Status.PRESENT, ""
    undecided = next((s for s in services if s.reach is Reach.UNKNOWN), None)
    if undecided is not None:
        return Status.TIMEOUT, f"{undecided.label}: {undecided.session.describe()}"
    if services and all(s.reach is Reach.FILTERED for s in services):
        return Status.TIMEOUT, f"none of the {len(services)} candidate ports answered (all timed out)"
    failure = found.failure()
    if failure is not None:
        return failure
    return Status.NOT_APPLICABLE, ""


def mailbox_plan(target: Target) -> Plan[MailboxObservation]:
    found = yield from discovery_plan(target.domain)
    chosen: dict[tuple[str, int], tuple[MailboxHost, Candidate]] = {}
    for host in found.hosts:
        for address in host.probe_addresses:
            for candidate in host.candidates:
                chosen.setdefault((address, candidate.port), (host, candidate))
    requests = [
        ServiceRequest(c.service.protocol, h.name, address, port, implicit_tls=c.service.implicit_tls)
        for (address, port), (h, c) in chosen.items()
    ]
    sessions = (yield from probe(*requests)) if requests else ()
    scans = [
        TlsScanRequest(r.host, r.address, r.port, chosen[(r.address, r.port)][1].service.starttls)
        for r in (
            s.request
            for s in sessions
            if isinstance(s, ServiceSession) and s.tls is not None and s.tls.status is Status.PRESENT
        )
    ]
    scanned = (yield from probe(*scans)) if scans else ()
    scan_of = {(s.request.address, s.request.port): s for s in scanned if isinstance(s, TlsScan)}
    services = tuple(
        MailboxService(host.name, candidate.service, candidate.advertised, session, scan_of.get(key))
        for (key, (host, candidate)), session in zip(chosen.items(), sessions, strict=True)
        if isinstance(session, ServiceSession)
    )
    status, problem = observation_status(services, found)
    return MailboxObservation(
        target.domain,
        status,
        found.srv,
        found.common_names,
        found.autoconfig,
        found.hosts,
        found.dropped,
        services,
        target.moment(),
        problem,
    )


MAILBOX = Observer("mailbox", mailbox_plan)
