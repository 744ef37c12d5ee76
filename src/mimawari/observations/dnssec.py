"""DNSSEC chain of trust for the domain and its MX hosts: secure, insecure, bogus, or unknown.

``validation_plan`` walks from the trust anchor's zone down to a name, one label at a time, the way a
validating resolver finds zone cuts (RFC 4035 §5): for each name it asks SOA (an answer owned by the name
means a zone starts there) and DS. At a cut the DS RRset, signed by the parent, must match a DNSKEY of
the child that signs the child's DNSKEY RRset; a cut without DS must be proven by the parent's signed
NSEC/NSEC3, or the answer is bogus. The walk ends by validating the answer to the question itself. Every
query goes out with DO+CD (``Query.dnssec``), so validation is ours and a bogus chain is seen as bogus,
not as a resolver's SERVFAIL. A timeout or error anywhere yields ``unknown`` with that lookup as evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from importlib.resources import files
from typing import TypeVar

import dns.name

from mimawari.lookup import DnsAnswer, Need, Plan, Query, ask, ask_one
from mimawari.model import Status, Target
from mimawari.observations import Observer
from mimawari.parse.dnssec import (
    Security,
    TrustAnchor,
    check_signatures,
    display,
    dnskeys,
    ds_for,
    ds_records,
    key_tag,
    keys_tagged,
    match_ds,
    parse_trust_anchor,
    zone_name,
)
from mimawari.parse.dnssec_denial import check_answer, denial_proof
from mimawari.parse.mx import mx_exchanges

T = TypeVar("T")
MAX_MX_HOSTS = 10
"""MX hosts whose zones are validated; a hostile zone may list thousands."""


@cache
def bundled_anchors() -> tuple[str, ...]:
    """The root KSKs shipped with mimawari (``data/root-anchors.txt``)."""
    text = files("mimawari").joinpath("data/root-anchors.txt").read_text(encoding="utf-8")
    return tuple(line for line in (raw.split(";", 1)[0].strip() for raw in text.splitlines()) if line)


@dataclass(frozen=True)
class ZoneLink:
    """One zone on the way down from the anchor, as far as the validation got."""

    zone: str
    security: Security
    ds: tuple[str, ...] = ()
    """The DS RRset at the parent (or the trust anchor), verbatim."""
    key_tags: tuple[int, ...] = ()
    algorithms: tuple[int, ...] = ()
    """DNSKEY algorithm numbers of the zone's keys."""
    digest_types: tuple[int, ...] = ()
    """Digest types of the DS records."""
    matched_keys: tuple[int, ...] = ()
    """Tags of the DNSKEYs a DS record matches."""
    unmatched_ds: tuple[str, ...] = ()
    expected_ds: tuple[str, ...] = ()
    """SHA-256 DS records for the zone's current KSKs: what the parent should publish."""
    problem: str = ""
    proof: str = ""
    """For an insecure delegation: the record proving that there is no DS."""


@dataclass(frozen=True)
class Validation:
    """The security status of one name's answer, and the chain of zones behind it."""

    name: str
    rdtype: str
    security: Security
    zone: str = ""
    """The zone the name was found in (the deepest zone cut on the way down)."""
    links: tuple[ZoneLink, ...] = ()
    status: Status = Status.ERROR
    """The final answer's outcome (PRESENT, ABSENT, …)."""
    records: tuple[str, ...] = ()
    problem: str = ""
    failed: DnsAnswer | None = None
    """The lookup that timed out or failed, when ``security`` is UNKNOWN."""

    @property
    def zone_link(self) -> ZoneLink | None:
        """The link of the name's own zone, when the walk reached it."""
        return self.links[-1] if self.links and self.links[-1].zone == self.zone else None


@dataclass(frozen=True)
class DnssecObservation:
    domain: str
    anchors: tuple[str, ...]
    """The trust anchors used, as DS/DNSKEY lines."""
    bundled_anchors: bool
    domain_validation: Validation
    """The domain's MX answer (or its proven absence), validated."""
    mx_hosts: tuple[str, ...] = ()
    mx_validations: tuple[Validation, ...] = ()
    """Each MX host's A answer (or proven absence), validated."""
    validated_at: int = 0
    """Seconds since the epoch at which signature validity periods were checked."""


def trust_anchors(target: Target) -> tuple[tuple[TrustAnchor, ...], bool]:
    lines = target.trust_anchors or bundled_anchors()
    parsed = (parse_trust_anchor(line) for line in lines)
    return tuple(a for a in parsed if a is not None), not target.trust_anchors


def validation_plan(name: str, rdtype: str, anchors: Sequence[TrustAnchor], now: int) -> Plan[Validation]:
    """Validate ``name rdtype`` from the closest trust anchor down (see the module docstring)."""
    target = zone_name(name)
    result = Validation(display(target), rdtype, Security.INDETERMINATE)
    final = Query.of(display(target), rdtype, dnssec=True)
    covering = [zone_name(a.zone) for a in anchors if target.is_subdomain(zone_name(a.zone))]
    if not covering:
        answer = yield from ask_one(final)
        problem = "no trust anchor covers this name" if anchors else "no usable trust anchor"
        return replace(result, status=answer.status, records=answer.records, problem=problem)
    top = max(covering, key=len)
    anchor_ds = tuple(a.rdata for a in anchors if zone_name(a.zone) == top and a.rdtype == "DS")
    anchor_keys = tuple(a.rdata for a in anchors if zone_name(a.zone) == top and a.rdtype == "DNSKEY")
    key_answer = yield from ask_one(Query.of(display(top), "DNSKEY", dnssec=True))
    if not key_answer.status.answered:
        return replace(result, security=Security.UNKNOWN, zone=display(top), failed=key_answer)
    link, keys = zone_keys(display(top), key_answer, anchor_ds, anchor_keys, now)
    links, zone = [link], top
    for depth in range(len(top) + 1, len(target) + 1):
        if links[-1].security is not Security.SECURE:
            break  # below an insecure or bogus zone nothing can be secure
        child = dns.name.Name(target.labels[-depth:])
        ds_answer, soa_answer = yield from ask(
            Query.of(display(child), "DS", dnssec=True), Query.of(display(child), "SOA", dnssec=True)
        )
        failed = next((a for a in (soa_answer, ds_answer) if not a.status.answered), None)
        if failed is not None:
            return replace(
                result, security=Security.UNKNOWN, zone=display(zone), links=tuple(links), failed=failed
            )
        if soa_answer.status is Status.ABSENT or soa_answer.cname_chain:
            if soa_answer.nxdomain or soa_answer.cname_chain:
                break  # nothing exists further down; the final answer's denial proves it
            continue  # no zone starts at this name
        link = delegation(display(zone), keys, display(child), ds_answer, now)
        if link.security is Security.SECURE:  # the DS is proven: on to the child's keys
            key_answer = yield from ask_one(Query.of(display(child), "DNSKEY", dnssec=True))
            if not key_answer.status.answered:
                return replace(
                    result,
                    security=Security.UNKNOWN,
                    zone=display(child),
                    links=tuple(links),
                    failed=key_answer,
                )
            link, keys = zone_keys(display(child), key_answer, ds_answer.records, (), now)
        links.append(link)
        zone = child
    answer = yield from ask_one(final)
    result = replace(
        result, zone=display(zone), links=tuple(links), status=answer.status, records=answer.records
    )
    if not answer.status.answered:
        return replace(result, security=Security.UNKNOWN, failed=answer)
    security = links[-1].security
    problem = next((lk.problem for lk in links if lk.problem), "")
    if security is Security.SECURE:
        check = check_answer(answer, display(zone), keys, now)
        if not check.valid:
            security, problem = Security.BOGUS, check.problem
    return replace(result, security=security, problem=problem)


def delegation(
    parent: str, parent_keys: Sequence[str], child: str, ds_answer: DnsAnswer, now: int
) -> ZoneLink:
    """The step over a zone cut: SECURE when a signed DS leads on (its keys still to be checked),
    INSECURE when the parent's signed NSEC/NSEC3 proves there is no DS, else BOGUS (RFC 4035 §5.2)."""
    if ds_answer.status is Status.ABSENT:
        denial = denial_proof(ds_answer, parent, parent_keys, now)
        if denial.proven and denial.delegation:
            kind = "an NSEC3 opt-out span" if denial.opt_out else "a signed NSEC/NSEC3 record"
            proof = f"{kind} of {parent} proves that {child} has no DS: an unsigned delegation"
            return ZoneLink(child, Security.INSECURE, proof=proof)
        problem = (
            denial.problem or f"{parent} says there is no zone cut at {child}, yet {child} serves an SOA"
        )
        return ZoneLink(child, Security.BOGUS, problem=f"no valid proof that {child} is unsigned: {problem}")
    digests = tuple(sorted({int(ds.digest_type) for ds in ds_records(ds_answer.records)}))
    check = check_signatures(
        child, "DS", ds_answer.records, ds_answer.signatures, parent, parent_keys, now, ds_answer.ttl or 0
    )
    security = Security.SECURE if check.valid else Security.BOGUS
    return ZoneLink(child, security, ds_answer.records, digest_types=digests, problem=check.problem)


def zone_keys(
    zone: str, answer: DnsAnswer, ds: Sequence[str], anchor_keys: Sequence[str], now: int
) -> tuple[ZoneLink, tuple[str, ...]]:
    """Validate a zone's DNSKEY RRset against its DS records or DNSKEY anchors (RFC 4035 §5.2);
    the zone's keys come back only when the link is SECURE."""
    keys = dnskeys(answer.records)
    tags = tuple(sorted({key_tag(k) for k in keys}))
    match = match_ds(zone, ds, answer.records, anchor_keys)
    link = ZoneLink(
        zone,
        Security.BOGUS,
        tuple(ds),
        key_tags=tags,
        algorithms=tuple(sorted({int(k.algorithm) for k in keys})),
        digest_types=tuple(sorted({int(record.digest_type) for record in ds_records(ds)})),
        matched_keys=match.matched,
        unmatched_ds=match.unmatched,
        expected_ds=ds_for(zone, answer.records) if keys else (),
    )
    if not match.usable:
        proof = "the DS records use only algorithms or digests that validators do not support (RFC 8624)"
        return replace(link, security=Security.INSECURE, proof=proof), ()
    if not keys:
        return replace(link, problem=f"{zone} has a DS record at its parent but serves no DNSKEY"), ()
    if not match.matched:
        listed = ", ".join(map(str, tags))
        return replace(
            link, problem=f"no DS record at the parent matches a DNSKEY of {zone} (key tags {listed})"
        ), ()
    trusted = keys_tagged(answer.records, match.matched)
    check = check_signatures(
        zone, "DNSKEY", answer.records, answer.signatures, zone, trusted, now, answer.ttl or 0
    )
    if not check.valid:
        return replace(link, problem=check.problem), ()
    return replace(link, security=Security.SECURE), tuple(answer.records)


def together(*plans: Plan[T]) -> Plan[tuple[T, ...]]:
    """Run several plans side by side: each round sends every unfinished plan's requests at once."""
    results: dict[int, T] = {}
    needs: dict[int, Need] = {}
    for index, plan in enumerate(plans):
        try:
            needs[index] = next(plan)
        except StopIteration as done:
            results[index] = done.value
    while needs:
        responses = yield tuple(request for need in needs.values() for request in need)
        offset, running = 0, dict(needs)
        needs = {}
        for index, need in running.items():
            mine, offset = responses[offset : offset + len(need)], offset + len(need)
            try:
                needs[index] = plans[index].send(mine)
            except StopIteration as done:
                results[index] = done.value
    return tuple(results[index] for index in range(len(plans)))


def dnssec_plan(target: Target) -> Plan[DnssecObservation]:
    anchors, bundled = trust_anchors(target)
    now = target.moment()
    domain = yield from validation_plan(target.domain, "MX", anchors, now)
    hosts = mx_hosts_of(domain)
    hosts_checked = yield from together(*(validation_plan(host, "A", anchors, now) for host in hosts))
    return DnssecObservation(
        target.domain, tuple(map(str, anchors)), bundled, domain, hosts, hosts_checked, now
    )


def mx_hosts_of(validation: Validation) -> tuple[str, ...]:
    """MX exchange names, most preferred first; a Null MX (RFC 7505) has none."""
    return mx_exchanges(validation.records)[:MAX_MX_HOSTS] if validation.status is Status.PRESENT else ()


DNSSEC = Observer("dnssec", dnssec_plan)
