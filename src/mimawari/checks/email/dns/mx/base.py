"""What the MX and PTR checks share: references, the unknown and not-applicable verdicts, host fixes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from mimawari.model import Evidence, Grade, Reference, Status, Text, Verdict
from mimawari.observations.hosts import AddressLookup, HostAddress
from mimawari.observations.mx import MxHost, MxObservation, ReverseDns
from mimawari.parse.mx import AddressScope

RFC5321_MX = Reference("RFC 5321 §5.1", "https://www.rfc-editor.org/rfc/rfc5321#section-5.1")
RFC7505 = Reference("RFC 7505 (Null MX)", "https://www.rfc-editor.org/rfc/rfc7505")
RFC2181_ALIAS = Reference("RFC 2181 §10.3", "https://www.rfc-editor.org/rfc/rfc2181#section-10.3")
RFC1912_PTR = Reference("RFC 1912 §2.1", "https://www.rfc-editor.org/rfc/rfc1912#section-2.1")
RFC8601_IPREV = Reference("RFC 8601 §3 (iprev)", "https://www.rfc-editor.org/rfc/rfc8601#section-3")

UNKNOWN = Text(
    "Could not be determined: the lookup of {name} ended in {outcome}. This is not a finding; scan again.",
    "判定できませんでした（{name} の問い合わせ結果: {outcome}）。問題が見つかったという意味ではありません。"
    "再度スキャンしてください。",
)
NO_MX_HOSTS = Text(
    "{domain} publishes no MX host to check.",
    "{domain} にはチェック対象の MX ホストがありません。",
)
NO_ADDRESSES = Text(
    "No public MX address to check.",
    "チェック対象となる公開 MX アドレスがありません。",
)

PLACEHOLDER_V4 = "<public IPv4 address of the mail server>"
EXAMPLE_V4 = "192.0.2.25"
"""Stands in for the address the owner will publish, to compute the after-fix grade."""


def mx_unknown(observation: MxObservation) -> Verdict | None:
    """``unknown`` when the MX lookup itself failed."""
    if observation.status.answered:
        return None
    summary = UNKNOWN.format(name=f"{observation.domain} MX", outcome=observation.outcome)
    return Verdict(Grade.UNKNOWN, summary, (observation.mx_evidence(),))


def hosts_unknown(
    observation: MxObservation, hosts: Iterable[MxHost], *, every_address: bool = False
) -> Verdict | None:
    """``unknown`` when a host's addresses could not be looked up (timeout or error on every family),
    or, with ``every_address``, when any A or AAAA lookup failed: a check about every address cannot
    pass over the ones it did not see."""
    failed = [
        lookup
        for host in hosts
        if every_address or host.resolution in (Status.TIMEOUT, Status.ERROR)
        for lookup in host.lookups
        if not lookup.status.answered
    ]
    if not failed:
        return None
    summary = UNKNOWN.format(name=f"{failed[0].name} {failed[0].rdtype}", outcome=failed[0].outcome)
    return Verdict(Grade.UNKNOWN, summary, (observation.mx_evidence(), *(f.evidence() for f in failed)))


def not_applicable(observation: MxObservation) -> Verdict:
    return Verdict(Grade.NA, NO_MX_HOSTS.format(domain=observation.domain), (observation.mx_evidence(),))


def host_evidence(hosts: Iterable[MxHost]) -> tuple[Evidence, ...]:
    return tuple(lookup.evidence() for host in hosts for lookup in host.lookups)


def resolved_host(host: MxHost, exchange: str, addresses: tuple[str, ...] = (EXAMPLE_V4,)) -> MxHost:
    """``host`` as it would look after the owner publishes ``addresses`` for ``exchange``."""
    v4 = tuple(HostAddress(a, AddressScope.PUBLIC) for a in addresses if ":" not in a)
    v6 = tuple(HostAddress(a, AddressScope.PUBLIC) for a in addresses if ":" in a)
    return replace(
        host,
        exchange=exchange,
        ip_literal=None,
        ipv4=_lookup(exchange, "A", v4),
        ipv6=_lookup(exchange, "AAAA", v6),
    )


def _lookup(name: str, rdtype: str, addresses: tuple[HostAddress, ...]) -> AddressLookup:
    if addresses:
        return AddressLookup(name, rdtype, Status.PRESENT, "records", addresses)
    return AddressLookup(name, rdtype, Status.ABSENT, "NODATA")


def address_line(name: str, address: str) -> str:
    return f"{name}. IN {'AAAA' if ':' in address else 'A'} {address}"


def reverse_unknown(observation: MxObservation, *, forward: bool) -> Verdict | None:
    """``unknown`` when the MX addresses or their PTR records (and, with ``forward``, the lookups of the
    PTR names) are not all known."""
    failed = mx_unknown(observation) or hosts_unknown(observation, observation.mail_hosts, every_address=True)
    if failed is not None:
        return failed
    undecided = [
        r
        for r in observation.reverse
        if (r.confirmation if forward else r.status) in (Status.TIMEOUT, Status.ERROR)
    ]
    if not undecided:
        return None
    entry = undecided[0]
    name, outcome = f"{entry.reverse_name} PTR", entry.outcome
    if entry.status.answered:  # the PTR was answered; a forward lookup failed
        lookup = next(f for f in entry.forward if not f.status.answered)
        name, outcome = f"{lookup.name} {lookup.rdtype}", lookup.outcome
    evidence = tuple(e for r in undecided for e in r.evidence())
    return Verdict(Grade.UNKNOWN, UNKNOWN.format(name=name, outcome=outcome), evidence)


def no_public_addresses(observation: MxObservation) -> Verdict:
    return Verdict(Grade.NA, NO_ADDRESSES, (observation.mx_evidence(),))


def host_of(observation: MxObservation, address: str) -> MxHost | None:
    """The best-preference MX host that has ``address``."""
    return next((h for h in observation.mail_hosts if any(a.address == address for a in h.addresses)), None)


def ptr_to_mx_host(observation: MxObservation, entries: Iterable[ReverseDns]) -> tuple[str, MxObservation]:
    """The PTR records pointing each address at its MX host name, and the observation once published.

    The MX host name resolves to the address by construction, so the fixed PTR is forward-confirmed.
    """
    fixed: dict[str, ReverseDns] = {}
    lines = []
    for entry in entries:
        host = host_of(observation, entry.address)
        if host is None:
            continue
        rdtype = "AAAA" if ":" in entry.address else "A"
        forward = next(lookup for lookup in host.lookups if lookup.rdtype == rdtype)
        lines.append(f"{entry.reverse_name}. IN PTR {host.exchange}.")
        fixed[entry.address] = replace(
            entry, status=Status.PRESENT, outcome="records", names=(host.exchange,), forward=(forward,)
        )
    reverse = tuple(fixed.get(r.address, r) for r in observation.reverse)
    return "\n".join(lines), replace(observation, reverse=reverse)
