"""Network questions and answers as data (DNS queries, HTTP fetches), and lookup plans that need no I/O.

An observation that needs the network is written as a *plan*: a generator that yields the requests it
needs (a tuple, answered concurrently) and receives the responses, then returns the observation. The plan
holds all the logic (which name to ask next, when to stop); whoever drives it only does I/O:

* ``observe.run_plan`` drives a plan against live (or lab) DNS and records every answer;
* ``replay`` drives it from a recorded ``Snapshot`` with no network at all, which is how tests feed
  recorded observations to checks and how the what-if simulator re-evaluates a patched snapshot.

    def dmarc_plan(target: Target) -> Plan[DmarcObservation]:
        answer = yield from ask_one(Query.of(f"_dmarc.{target.domain}", "TXT"))
        ...

A plan never connects to a name: it resolves the name with DNS queries first and asks for an HTTP fetch
from a chosen address (``HttpRequest.address``), so every host contacted was found through the scan's own
resolver and is recorded in the snapshot.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import TypeVar

import dns.exception
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TXT

from mimawari.model import Status, Target
from mimawari.probes import ProbeRequest, ProbeResult, ServiceRequest, ServiceSession, TlsScan

T = TypeVar("T")


@dataclass(frozen=True, order=True)
class Query:
    """A DNS question: an absolute name (lower case, no trailing dot) and a record type (``"TXT"``)."""

    name: str
    rdtype: str
    dnssec: bool = False
    """Ask with the DO and CD bits (RFC 4035 §3.2.1, §3.2.2): the answer carries its RRSIGs and denial
    records, and a validating resolver hands over even data it finds bogus, since mimawari validates."""

    @classmethod
    def of(cls, name: str, rdtype: str, *, dnssec: bool = False) -> Query:
        return cls(name.rstrip(".").lower(), rdtype.upper(), dnssec)

    def __str__(self) -> str:
        return f"{self.name or '.'} {self.rdtype}{' +dnssec' if self.dnssec else ''}"


@dataclass(frozen=True)
class DnsAnswer:
    """The outcome of one query. Exactly one of: records, NXDOMAIN, NODATA, timeout, error.

    ``status`` is PRESENT (records), ABSENT (``rcode`` NXDOMAIN or NOERROR/NODATA), TIMEOUT (no server
    answered in time) or ERROR (SERVFAIL, REFUSED, a malformed reply, a network error). Records are in
    presentation format, sorted, so snapshots compare and diff stably.
    """

    query: Query
    status: Status
    rcode: str = ""
    records: tuple[str, ...] = ()
    ttl: int | None = None
    cname_chain: tuple[str, ...] = ()
    via_tcp: bool = False
    nameserver: str = ""
    detail: str = ""
    signatures: tuple[str, ...] = ()
    """For a ``dnssec`` query: the RRSIGs covering the answer RRset (rdata in presentation format; their
    owner is the last name of ``cname_chain``, or the query name)."""
    denial: tuple[str, ...] = ()
    """For a ``dnssec`` query answered NXDOMAIN or NODATA: the authority section's NSEC/NSEC3 records and
    the RRSIGs covering them, as whole lines (``owner TTL IN NSEC …``)."""

    @property
    def owner(self) -> str:
        """The owner name of ``records``: the end of the CNAME chain, or the query name."""
        return self.cname_chain[-1] if self.cname_chain else self.query.name

    @property
    def nxdomain(self) -> bool:
        return self.rcode == "NXDOMAIN"

    @property
    def outcome(self) -> str:
        """One word for reports: records, NXDOMAIN, NODATA, timeout or the error's rcode."""
        if self.status is Status.PRESENT:
            return "records"
        if self.status is Status.ABSENT:
            return "NXDOMAIN" if self.nxdomain else "NODATA"
        if self.status is Status.TIMEOUT:
            return "timeout"
        return self.rcode or "error"

    def describe(self) -> str:
        """The answer as evidence: the records, or what happened instead."""
        if self.status is Status.PRESENT:
            return " | ".join(self.records)
        return f"{self.outcome}{': ' + self.detail if self.detail else ''}"


@dataclass(frozen=True, order=True)
class HttpRequest:
    """An HTTP(S) GET of ``url`` from the server at ``address`` (an IP the plan resolved).

    TLS server name and Host header come from the URL; the certificate must be valid for that name.
    """

    url: str
    address: str

    def __str__(self) -> str:
        return f"GET {self.url} @ {self.address}"


@dataclass(frozen=True)
class HttpResponse:
    """The outcome of one fetch: PRESENT with ``http_status`` set when the server answered at all
    (any status code), TIMEOUT, or ERROR (refused, TLS or certificate failure, out of scope, too big).
    """

    request: HttpRequest
    status: Status
    http_status: int | None = None
    content_type: str = ""
    body: str = ""
    redirect: str = ""
    """The ``Location`` of a 3xx reply; redirects are never followed (RFC 8461 §3.3 forbids it)."""
    detail: str = ""

    def describe(self) -> str:
        if self.status is Status.PRESENT:
            kind = f", {self.content_type}" if self.content_type else ""
            return f"HTTP {self.http_status}{kind}, {len(self.body)} characters"
        return f"{self.status.value}: {self.detail}" if self.detail else self.status.value


Request = Query | HttpRequest | ProbeRequest
Response = DnsAnswer | HttpResponse | ProbeResult


def txt_value(record: str) -> str:
    """The text of a TXT record given in presentation format, its strings joined (RFC 7208 §3.3)."""
    try:
        rdata = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, record)
    except dns.exception.DNSException:
        return record
    assert isinstance(rdata, dns.rdtypes.ANY.TXT.TXT)
    return b"".join(rdata.strings).decode("utf-8", errors="replace")


Need = tuple[Request, ...]
Plan = Generator[Need, tuple[Response, ...], T]
"""A lookup plan: yields requests, receives their responses in the same order, returns its result."""


def ask(*queries: Query) -> Generator[Need, tuple[Response, ...], tuple[DnsAnswer, ...]]:
    """Ask several DNS queries at once (answered concurrently); use with ``yield from``."""
    responses = yield queries
    answers = tuple(r for r in responses if isinstance(r, DnsAnswer))
    assert len(answers) == len(queries), "a DNS query was answered with something else"
    return answers


def ask_one(query: Query) -> Generator[Need, tuple[Response, ...], DnsAnswer]:
    (answer,) = yield from ask(query)
    return answer


def fetch(*requests: HttpRequest) -> Generator[Need, tuple[Response, ...], tuple[HttpResponse, ...]]:
    """Fetch several URLs at once; use with ``yield from``."""
    responses = yield requests
    fetched = tuple(r for r in responses if isinstance(r, HttpResponse))
    assert len(fetched) == len(requests), "an HTTP request was answered with something else"
    return fetched


def gather(*requests: Request) -> Generator[Need, tuple[Response, ...], tuple[Response, ...]]:
    """Send DNS queries and HTTP fetches together; the caller narrows each response's type."""
    responses = yield requests
    return responses


def probe(*requests: ProbeRequest) -> Generator[Need, tuple[Response, ...], tuple[ProbeResult, ...]]:
    """Run several mail-server sessions or TLS scans at once; use with ``yield from``."""
    responses = yield requests
    results = tuple(r for r in responses if isinstance(r, ServiceSession | TlsScan))
    assert len(results) == len(requests), "a probe was answered with something else"
    return results


def request_of(response: Response) -> Request:
    return response.query if isinstance(response, DnsAnswer) else response.request


@dataclass(frozen=True)
class Snapshot:
    """Every response a scan of one target received: the raw observations, JSON round-trippable."""

    target: Target
    dns: tuple[DnsAnswer, ...] = ()
    http: tuple[HttpResponse, ...] = ()
    services: tuple[ServiceSession, ...] = ()
    tls: tuple[TlsScan, ...] = ()

    @classmethod
    def of(cls, target: Target, responses: Iterable[Response]) -> Snapshot:
        responses = list(responses)
        dns = sorted((r for r in responses if isinstance(r, DnsAnswer)), key=lambda a: a.query)
        http = sorted((r for r in responses if isinstance(r, HttpResponse)), key=lambda r: r.request)
        services = sorted((r for r in responses if isinstance(r, ServiceSession)), key=lambda r: r.request)
        tls = sorted((r for r in responses if isinstance(r, TlsScan)), key=lambda r: r.request)
        return cls(target, tuple(dns), tuple(http), tuple(services), tuple(tls))

    @property
    def responses(self) -> list[Response]:
        return [*self.dns, *self.http, *self.services, *self.tls]

    @cached_property
    def _by_request(self) -> dict[Request, Response]:
        return {request_of(r): r for r in self.responses}

    def response(self, request: Request) -> Response | None:
        return self._by_request.get(request)

    def answer(self, query: Query) -> DnsAnswer | None:
        response = self._by_request.get(query)
        return response if isinstance(response, DnsAnswer) else None

    def patched(self, *responses: Response) -> Snapshot:
        """A copy in which ``responses`` replace the recorded responses to the same requests."""
        replaced = {request_of(r): r for r in responses}
        kept = [r for r in self.responses if request_of(r) not in replaced]
        return Snapshot.of(self.target, [*kept, *replaced.values()])


def not_recorded(request: Request) -> Response:
    """The response ``replay`` gives for a request the snapshot lacks: undecided, never absent.

    A DNS error already means "cannot tell". An HTTP or probe error does not: it is a finding (a sender
    fetching the MTA-STS policy would fail too), so a missing fetch or probe replays as a timeout, the
    undecided outcome.
    """
    detail = "not in the recorded snapshot"
    if isinstance(request, Query):
        return DnsAnswer(request, Status.ERROR, detail=detail)
    if isinstance(request, HttpRequest):
        return HttpResponse(request, Status.TIMEOUT, detail=detail)
    if isinstance(request, ServiceRequest):
        return ServiceSession(request, Status.TIMEOUT, detail=detail)
    return TlsScan(request, Status.TIMEOUT, detail=detail)


def replay(plan: Plan[T], snapshot: Snapshot, missing: Callable[[Request], Response] = not_recorded) -> T:
    """Run a plan against recorded responses only; unrecorded requests get ``missing(request)``."""
    try:
        need = next(plan)
        while True:
            need = plan.send(tuple(snapshot.response(r) or missing(r) for r in need))
    except StopIteration as done:
        result: T = done.value
        return result
