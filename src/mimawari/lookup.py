"""DNS questions and answers as data, and lookup plans that need no I/O.

An observation that needs DNS is written as a *plan*: a generator that yields the queries it needs
(a tuple, answered concurrently) and receives the answers, then returns the observation. The plan holds
all the logic (which name to ask next, when to stop); whoever drives it only does I/O:

* ``observe.run_plan`` drives a plan against live (or lab) DNS and records every answer;
* ``replay`` drives it from a recorded ``Snapshot`` with no network at all, which is how tests feed
  recorded observations to checks and how the what-if simulator re-evaluates a patched snapshot.

    def dmarc_plan(domain: str) -> Plan[DmarcObservation]:
        answer = yield from ask(Query(f"_dmarc.{domain}", "TXT"))
        ...
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from functools import cached_property
from typing import TypeVar

import dns.exception
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TXT

from mimawari.model import Status

T = TypeVar("T")


@dataclass(frozen=True, order=True)
class Query:
    """A DNS question: an absolute name (lower case, no trailing dot) and a record type (``"TXT"``)."""

    name: str
    rdtype: str

    @classmethod
    def of(cls, name: str, rdtype: str) -> Query:
        return cls(name.rstrip(".").lower(), rdtype.upper())

    def __str__(self) -> str:
        return f"{self.name} {self.rdtype}"


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


def txt_value(record: str) -> str:
    """The text of a TXT record given in presentation format, its strings joined (RFC 7208 §3.3)."""
    try:
        rdata = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, record)
    except dns.exception.DNSException:
        return record
    assert isinstance(rdata, dns.rdtypes.ANY.TXT.TXT)
    return b"".join(rdata.strings).decode("utf-8", errors="replace")


Need = tuple[Query, ...]
Plan = Generator[Need, tuple[DnsAnswer, ...], T]
"""A lookup plan: yields queries, receives their answers in the same order, returns its result."""


def ask(*queries: Query) -> Generator[Need, tuple[DnsAnswer, ...], tuple[DnsAnswer, ...]]:
    """Ask several queries at once (they are answered concurrently); use with ``yield from``."""
    answers = yield queries
    return answers


def ask_one(query: Query) -> Generator[Need, tuple[DnsAnswer, ...], DnsAnswer]:
    (answer,) = yield (query,)
    return answer


@dataclass(frozen=True)
class Snapshot:
    """Every DNS answer a scan of one target received: the raw observations, JSON round-trippable."""

    target: str
    dns: tuple[DnsAnswer, ...] = ()

    @cached_property
    def _by_query(self) -> dict[Query, DnsAnswer]:
        return {answer.query: answer for answer in self.dns}

    def answer(self, query: Query) -> DnsAnswer | None:
        return self._by_query.get(query)

    def patched(self, *answers: DnsAnswer) -> Snapshot:
        """A copy in which ``answers`` replace the recorded answers to the same queries."""
        replaced = {a.query: a for a in answers}
        kept = tuple(a for a in self.dns if a.query not in replaced)
        return Snapshot(self.target, tuple(sorted(kept + tuple(replaced.values()), key=lambda a: a.query)))


def not_recorded(query: Query) -> DnsAnswer:
    """The answer ``replay`` gives for a query the snapshot does not hold: an error, never absent."""
    return DnsAnswer(query, Status.ERROR, detail="not in the recorded snapshot")


def replay(plan: Plan[T], snapshot: Snapshot, missing: Callable[[Query], DnsAnswer] = not_recorded) -> T:
    """Run a plan against recorded answers only; unrecorded queries get ``missing(query)``."""
    try:
        need = next(plan)
        while True:
            need = plan.send(tuple(snapshot.answer(q) or missing(q) for q in need))
    except StopIteration as done:
        result: T = done.value
        return result
