"""MX hosts of a domain, their addresses, and the reverse DNS of those addresses.

The plan asks, in at most four rounds: the MX RRset; A and AAAA of every MX host at once (or of the
domain itself when it has no MX, the implicit MX of RFC 5321 §5.1); PTR of every public MX address;
and A or AAAA of every PTR name, to see whether it leads back (forward-confirmed reverse DNS).
A lookup that times out or fails is kept as such, so checks can answer ``unknown`` instead of guessing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from mimawari.lookup import Plan, Query, ask, ask_one
from mimawari.model import Evidence, Status, Target
from mimawari.observations import Observer
from mimawari.observations.hosts import AddressLookup, ResolvedHost, resolve_hosts
from mimawari.parse.mx import AddressScope, ip_literal, parse_mx, reverse_name

MAX_PTR_NAMES = 4
"""PTR names per address checked for forward confirmation."""


@dataclass(frozen=True)
class MxHost(ResolvedHost):
    """One MX record and what its exchange resolves to. ``ipv4``/``ipv6`` are None when not asked:
    for the Null MX, for an IP literal, and for hosts beyond ``MAX_HOSTS``."""

    preference: int
    exchange: str
    """Lower case, no trailing dot; ``"."`` for the root (RFC 7505 Null MX)."""
    ip_literal: str | None = None
    ipv4: AddressLookup | None = None
    ipv6: AddressLookup | None = None

    @property
    def is_null(self) -> bool:
        return self.exchange == "."

    def zone_line(self, domain: str, exchange: str | None = None) -> str:
        target = exchange or self.exchange
        return f"{domain}. IN MX {self.preference} {'.' if target == '.' else target + '.'}"


@dataclass(frozen=True)
class ReverseDns:
    """The PTR names of one address and whether any of them resolves back to it."""

    address: str
    reverse_name: str
    status: Status
    outcome: str
    names: tuple[str, ...] = ()
    forward: tuple[AddressLookup, ...] = ()
    detail: str = ""

    @property
    def confirmed_names(self) -> tuple[str, ...]:
        return tuple(
            lookup.name
            for lookup in self.forward
            if any(same_address(a.address, self.address) for a in lookup.addresses)
        )

    @property
    def confirmation(self) -> Status:
        """PRESENT when a PTR name leads back to the address, ABSENT when none does (or there is no
        PTR), TIMEOUT/ERROR when the PTR or a forward lookup failed and nothing confirmed it."""
        if self.status is not Status.PRESENT:
            return self.status
        if self.confirmed_names:
            return Status.PRESENT
        failed = next((lookup.status for lookup in self.forward if not lookup.status.answered), None)
        return failed or Status.ABSENT

    def evidence(self) -> tuple[Evidence, ...]:
        value = " | ".join(f"{name}." for name in self.names) if self.names else self.outcome
        if self.detail:
            value += f": {self.detail}"
        return (
            Evidence(f"{self.reverse_name} PTR", value),
            *(lookup.evidence() for lookup in self.forward),
        )


def same_address(left: str, right: str) -> bool:
    try:
        return ipaddress.ip_address(left) == ipaddress.ip_address(right)
    except ValueError:
        return left == right


@dataclass(frozen=True)
class MxObservation:
    """A domain's MX RRset (``status``/``outcome`` of that lookup), its hosts and their addresses.

    ``fallback`` holds the domain's own A/AAAA lookups when it has no MX (NODATA), because senders then
    deliver to those addresses (RFC 5321 §5.1). ``reverse`` covers every public MX address.
    """

    domain: str
    status: Status
    outcome: str
    records: tuple[str, ...] = ()
    hosts: tuple[MxHost, ...] = ()
    unparsed: tuple[str, ...] = ()
    fallback: tuple[AddressLookup, ...] = ()
    reverse: tuple[ReverseDns, ...] = ()
    detail: str = ""

    @property
    def nxdomain(self) -> bool:
        return self.outcome == "NXDOMAIN"

    @property
    def mail_hosts(self) -> tuple[MxHost, ...]:
        """Hosts a sender would look up: neither the Null MX nor an IP literal."""
        return tuple(h for h in self.hosts if not h.is_null and h.ip_literal is None)

    @property
    def has_null_mx(self) -> bool:
        return any(h.is_null for h in self.hosts)

    def mx_evidence(self) -> Evidence:
        value = " | ".join(self.records) if self.records else self.outcome
        if self.detail:
            value += f": {self.detail}"
        return Evidence(f"{self.domain} MX", value)

    def mx_zone_lines(self, hosts: Iterable[MxHost]) -> str:
        return "\n".join(h.zone_line(self.domain) for h in hosts)


def reverse_dns(addresses: Iterable[str]) -> Plan[tuple[ReverseDns, ...]]:
    pointers = {a: name for a in dict.fromkeys(addresses) if (name := reverse_name(a)) is not None}
    if not pointers:
        return ()
    answers = yield from ask(*(Query.of(name, "PTR") for name in pointers.values()))
    names = {
        address: tuple(sorted({r.rstrip(".").lower() for r in answer.records}))[:MAX_PTR_NAMES]
        for address, answer in zip(pointers, answers, strict=True)
    }
    # FCrDNS asks the PTR name for the address's own family (RFC 8601 §3 "iprev" does the same).
    wanted = {
        Query.of(name, "AAAA" if ":" in address else "A")
        for address, found in names.items()
        for name in found
    }
    forward_answers = (yield from ask(*sorted(wanted))) if wanted else ()
    forward = {a.query: AddressLookup.of(a) for a in forward_answers}
    return tuple(
        ReverseDns(
            address,
            answer.query.name,
            answer.status,
            answer.outcome,
            names[address],
            tuple(forward[Query.of(n, "AAAA" if ":" in address else "A")] for n in names[address]),
            "" if answer.status.answered else answer.detail,
        )
        for address, answer in zip(pointers, answers, strict=True)
    )


def mx_plan(target: Target) -> Plan[MxObservation]:
    domain = target.domain
    answer = yield from ask_one(Query.of(domain, "MX"))
    detail = "" if answer.status.answered else answer.detail
    if answer.status is not Status.PRESENT:
        fallback: tuple[AddressLookup, ...] = ()
        if answer.status is Status.ABSENT and not answer.nxdomain:
            fallback = (yield from resolve_hosts([domain])).get(domain, ())
        return MxObservation(domain, answer.status, answer.outcome, fallback=fallback, detail=detail)
    parsed = [(record, parse_mx(record)) for record in answer.records]
    unparsed = tuple(record for record, mx in parsed if mx is None)
    pairs = sorted(mx for _record, mx in parsed if mx is not None)
    names = [ex for _pref, ex in pairs if ex != "." and ip_literal(ex) is None]
    resolved = yield from resolve_hosts(names)
    hosts = tuple(
        MxHost(pref, ex, ip_literal(ex) if ex != "." else None, *resolved.get(ex, (None, None)))
        for pref, ex in pairs
    )
    public = [a.address for host in hosts for a in host.addresses if a.scope is AddressScope.PUBLIC]
    reverse = yield from reverse_dns(public)
    return MxObservation(
        domain, answer.status, answer.outcome, answer.records, hosts, unparsed, reverse=reverse
    )


MX = Observer("mx", mx_plan)
