"""The name servers of the zone a domain lives in, and their addresses.

The NS RRset that matters is the one at the apex of the domain's zone. A host name inside a zone (say
``news.example.com`` with only an A record) has no NS RRset of its own: the query answers NODATA, and the
plan climbs one label at a time, up to and including the organisational domain, until it finds one. A
name that is an alias (CNAME) is not a zone apex either, so the plan climbs past it too. A domain that
does not exist (NXDOMAIN at the first step) has no zone to judge; a timeout or error at any step stops
the climb with that failure, since the next name up would not be the domain's zone for certain.
"""

from __future__ import annotations

from dataclasses import dataclass

from mimawari.lookup import DnsAnswer, Plan, Query, ask_one
from mimawari.model import Evidence, Status, Target
from mimawari.observations import Observer
from mimawari.observations.hosts import AddressLookup, ResolvedHost, resolve_hosts
from mimawari.parse.names import organizational_domain


@dataclass(frozen=True)
class NsHost(ResolvedHost):
    """One NS record's target and what it resolves to (``ipv4``/``ipv6`` None beyond ``MAX_HOSTS``)."""

    name: str
    ipv4: AddressLookup | None = None
    ipv6: AddressLookup | None = None


@dataclass(frozen=True)
class NsObservation:
    """``status`` is PRESENT when an NS RRset was found at ``zone``; ABSENT when the domain does not
    exist (``nxdomain``) or no name up to the organisational domain has one; TIMEOUT/ERROR when a
    lookup of the climb failed (the last of ``lookups``)."""

    domain: str
    status: Status
    zone: str | None = None
    records: tuple[str, ...] = ()
    hosts: tuple[NsHost, ...] = ()
    lookups: tuple[DnsAnswer, ...] = ()

    @property
    def nxdomain(self) -> bool:
        return bool(self.lookups) and self.lookups[0].nxdomain

    def ns_evidence(self) -> tuple[Evidence, ...]:
        return tuple(Evidence(str(a.query), a.describe()) for a in self.lookups)

    def host_evidence(self) -> tuple[Evidence, ...]:
        return tuple(lookup.evidence() for host in self.hosts for lookup in host.lookups)

    def zone_lines(self, names: tuple[str, ...]) -> str:
        return "\n".join(f"{self.zone or self.domain}. IN NS {name}." for name in names)


def zone_climb(domain: str, stop: str) -> list[str]:
    """``domain`` and its ancestors up to and including ``stop`` (just ``domain`` when outside it)."""
    labels = domain.split(".")
    names = [".".join(labels[i:]) for i in range(len(labels))]
    return names[: names.index(stop) + 1] if stop in names else [domain]


def ns_plan(target: Target) -> Plan[NsObservation]:
    domain = target.domain
    lookups: list[DnsAnswer] = []
    for name in zone_climb(domain, organizational_domain(domain)):
        answer = yield from ask_one(Query.of(name, "NS"))
        lookups.append(answer)
        if not answer.status.answered:
            return NsObservation(domain, answer.status, lookups=tuple(lookups))
        if answer.nxdomain and name == domain:
            return NsObservation(domain, Status.ABSENT, lookups=tuple(lookups))
        if answer.status is Status.PRESENT and not answer.cname_chain:
            names = sorted({r.rstrip(".").lower() for r in answer.records})
            resolved = yield from resolve_hosts(names)
            hosts = tuple(NsHost(n, *resolved.get(n, (None, None))) for n in names)
            return NsObservation(domain, Status.PRESENT, name, answer.records, hosts, tuple(lookups))
    return NsObservation(domain, Status.ABSENT, lookups=tuple(lookups))


NS = Observer("ns", ns_plan)
