"""The CAA RRset relevant to a domain (RFC 8659 §3): the closest one climbing the name tree.

RFC 8659 climbs to just below the root; mimawari stops below the TLD, since TLD operators publish no
CAA and a query there says nothing about the owner's choices. All names are asked at once (one round);
the relevant RRset is the first present one from the domain upwards, and a timeout or error at a name
below it means the answer is unknown, since that name might have held the relevant set. A CNAME at a
name is followed by the resolver and its target's CAA counts for that name; when the target has none,
the climb goes on from the alias's parent, not the target's (RFC 8659 §3 dropped RFC 6844's rule).
"""

from __future__ import annotations

from dataclasses import dataclass

from mimawari.lookup import DnsAnswer, Plan, Query, ask
from mimawari.model import Evidence, Status, Target
from mimawari.observations import Observer
from mimawari.parse.caa import CaaProperty, parse_caa
from mimawari.parse.names import organizational_domain


@dataclass(frozen=True)
class CaaObservation:
    """``status`` PRESENT with the RRset found at ``location``; ABSENT when no name up to below the TLD
    has one; TIMEOUT/ERROR when a lookup below the first present RRset failed."""

    domain: str
    org_domain: str
    status: Status
    location: str | None = None
    properties: tuple[CaaProperty, ...] = ()
    lookups: tuple[DnsAnswer, ...] = ()

    def evidence(self) -> tuple[Evidence, ...]:
        return tuple(Evidence(str(a.query), a.describe()) for a in self.lookups)

    def tags(self, tag: str) -> tuple[CaaProperty, ...]:
        return tuple(p for p in self.properties if p.tag == tag)


def caa_climb(domain: str) -> list[str]:
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(max(1, len(labels) - 1))]


def caa_plan(target: Target) -> Plan[CaaObservation]:
    domain = target.domain
    org = organizational_domain(domain)
    answers = yield from ask(*(Query.of(name, "CAA") for name in caa_climb(domain)))
    for index, answer in enumerate(answers):
        consulted = answers[: index + 1]
        if not answer.status.answered:
            return CaaObservation(domain, org, answer.status, lookups=consulted)
        if answer.status is Status.PRESENT:
            properties = tuple(parse_caa(record) for record in answer.records)
            return CaaObservation(domain, org, Status.PRESENT, answer.query.name, properties, consulted)
    return CaaObservation(domain, org, Status.ABSENT, lookups=answers)


CAA = Observer("caa", caa_plan)
