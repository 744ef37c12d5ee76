"""Host names and their addresses: the A and AAAA lookups of MX hosts, name servers and other targets.

``resolve_hosts`` asks A and AAAA of many names in one round; ``AddressLookup`` keeps each answer with
the scope of every address it gave, and ``ResolvedHost`` gives an observation's host type the views the
checks read (all addresses, the overall resolution, the CNAME target). A lookup that times out or fails
stays a failure, so a host is never called unresolvable on a lookup that did not answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mimawari.lookup import DnsAnswer, Plan, Query, ask
from mimawari.model import Evidence, Status
from mimawari.parse.mx import AddressScope, address_scope

MAX_HOSTS = 32
"""Host names resolved per observation; a hostile zone may list thousands of MX or NS hosts."""


@dataclass(frozen=True)
class HostAddress:
    address: str
    scope: AddressScope


@dataclass(frozen=True)
class AddressLookup:
    """One A or AAAA lookup of a host name, with the addresses it gave and where they lead."""

    name: str
    rdtype: str
    status: Status
    outcome: str
    addresses: tuple[HostAddress, ...] = ()
    cname_chain: tuple[str, ...] = ()
    detail: str = ""

    @classmethod
    def of(cls, answer: DnsAnswer) -> AddressLookup:
        addresses = tuple(HostAddress(a, address_scope(a)) for a in answer.records)
        detail = "" if answer.status.answered else answer.detail
        return cls(
            answer.query.name,
            answer.query.rdtype,
            answer.status,
            answer.outcome,
            addresses,
            answer.cname_chain,
            detail,
        )

    def evidence(self) -> Evidence:
        value = " | ".join(a.address for a in self.addresses) if self.addresses else self.outcome
        if self.detail:
            value += f": {self.detail}"
        if self.cname_chain:
            value += f" (via CNAME {' → '.join(self.cname_chain)})"
        return Evidence(f"{self.name} {self.rdtype}", value)


def resolution(lookups: Iterable[AddressLookup]) -> Status:
    """PRESENT with any address, ABSENT when every lookup says so, else the failure (NOT_APPLICABLE
    when nothing was asked)."""
    lookups = tuple(lookups)
    if not lookups:
        return Status.NOT_APPLICABLE
    if any(lookup.addresses for lookup in lookups):
        return Status.PRESENT
    failed = next((lookup.status for lookup in lookups if not lookup.status.answered), None)
    return failed or Status.ABSENT


class ResolvedHost:
    """What a host's ``ipv4`` and ``ipv6`` lookups say together (None when not asked).

    A plain base class, not a dataclass: the frozen dataclasses that inherit it (``MxHost``, ``NsHost``)
    declare the two fields themselves, so their field order and JSON shape are their own.
    """

    ipv4: AddressLookup | None
    ipv6: AddressLookup | None

    @property
    def lookups(self) -> tuple[AddressLookup, ...]:
        return tuple(lookup for lookup in (self.ipv4, self.ipv6) if lookup is not None)

    @property
    def addresses(self) -> tuple[HostAddress, ...]:
        return tuple(a for lookup in self.lookups for a in lookup.addresses)

    @property
    def resolution(self) -> Status:
        return resolution(self.lookups)

    @property
    def canonical(self) -> str | None:
        """The end of the CNAME chain when the host name is an alias (RFC 2181 §10.3 forbids that for
        the target of an MX or NS record)."""
        return next((lookup.cname_chain[-1] for lookup in self.lookups if lookup.cname_chain), None)


def ask_addresses(names: Iterable[str]) -> Plan[tuple[DnsAnswer, ...]]:
    """A and AAAA of every name (in order, each name once) in one round: A, AAAA, A, AAAA, …"""
    unique = list(dict.fromkeys(names))
    if not unique:
        return ()
    return (yield from ask(*(Query.of(n, t) for n in unique for t in ("A", "AAAA"))))


def resolve_hosts(names: Iterable[str]) -> Plan[dict[str, tuple[AddressLookup, AddressLookup]]]:
    """The A and AAAA lookups of the first ``MAX_HOSTS`` distinct names, by name."""
    unique = list(dict.fromkeys(names))[:MAX_HOSTS]
    answers = yield from ask_addresses(unique)
    lookups = [AddressLookup.of(a) for a in answers]
    return {name: (lookups[2 * i], lookups[2 * i + 1]) for i, name in enumerate(unique)}
