"""Judging NXDOMAIN and NODATA answers: signed NSEC/NSEC3 denial proofs (RFC 4035 §5.4, RFC 5155 §8).

``check_answer`` validates any recorded answer against a zone's keys: the RRSIGs of an answer RRset,
or the denial proof of an absent one; ``denial_proof`` also tells a provably unsigned delegation.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass

import dns.name
import dns.rdata
import dns.rdatatype
import dns.rdtypes.ANY.NSEC
import dns.rdtypes.ANY.NSEC3

from mimawari.lookup import DnsAnswer
from mimawari.model import Status
from mimawari.parse.dnssec import SignatureCheck, check_signatures, display, parse_rdatas, zone_name


def check_answer(answer: DnsAnswer, zone: str, key_texts: Sequence[str], now: int) -> SignatureCheck:
    """An answer from a signed zone: its RRset's signatures, or the proof that it does not exist."""
    if answer.status is Status.PRESENT:
        return check_signatures(
            answer.owner,
            answer.query.rdtype,
            answer.records,
            answer.signatures,
            zone,
            key_texts,
            now,
            answer.ttl or 0,
        )
    proof = denial_proof(answer, zone, key_texts, now)
    return SignatureCheck(proof.proven, proof.problem)


@dataclass(frozen=True)
class Denial:
    proven: bool
    problem: str = ""
    delegation: bool = False
    """For a DS query: the proof shows a zone cut without DS, i.e. an unsigned child (RFC 4035 §5.2)."""
    opt_out: bool = False


def denial_proof(answer: DnsAnswer, zone: str, key_texts: Sequence[str], now: int) -> Denial:
    """Check the signed NSEC/NSEC3 records proving an NXDOMAIN or NODATA answer (RFC 4035 §5.4, 5155 §8)."""
    qname, qtype = zone_name(answer.query.name), dns.rdatatype.RdataType.make(answer.query.rdtype)
    nsecs: list[tuple[dns.name.Name, dns.rdata.Rdata]] = []
    for owner, rdtype, rdatas, sigs in _denial_rrsets(answer.denial):
        check = check_signatures(display(owner), rdtype, rdatas, sigs, zone, key_texts, now)
        if not check.valid:
            return Denial(False, f"denial record {check.problem}")
        nsecs.extend((owner, r) for r in parse_rdatas(rdtype, rdatas))
    if not nsecs:
        what = "NXDOMAIN" if answer.nxdomain else "NODATA"
        return Denial(
            False, f"{what} for {answer.query} without NSEC/NSEC3 proof in the signed zone {display(zone)}"
        )
    if any(isinstance(r, dns.rdtypes.ANY.NSEC3.NSEC3) for _, r in nsecs):
        return _nsec3_proof(qname, qtype, answer.nxdomain, zone_name(zone), nsecs)
    return _nsec_proof(qname, qtype, answer.nxdomain, nsecs)


def _denial_rrsets(lines: Sequence[str]) -> list[tuple[dns.name.Name, str, list[str], list[str]]]:
    grouped: dict[tuple[dns.name.Name, str], tuple[list[str], list[str]]] = {}
    for line in lines:
        tokens = line.split(None, 4)
        if len(tokens) < 5:
            continue
        try:
            owner = zone_name(tokens[0])
        except dns.exception.DNSException:
            continue
        rdtype, rdata = tokens[3].upper(), tokens[4]
        if rdtype == "RRSIG":
            covered = rdata.split(None, 1)[0].upper()
            grouped.setdefault((owner, covered), ([], []))[1].append(rdata)
        elif rdtype in ("NSEC", "NSEC3"):
            grouped.setdefault((owner, rdtype), ([], []))[0].append(rdata)
    return [(owner, rdtype, rdatas, sigs) for (owner, rdtype), (rdatas, sigs) in grouped.items() if rdatas]


def _types(rdata: dns.rdata.Rdata) -> set[int]:
    windows = getattr(rdata, "windows", ())
    return {
        window * 256 + i * 8 + bit
        for window, bitmap in windows
        for i, octet in enumerate(bitmap)
        for bit in range(8)
        if octet & (0x80 >> bit)
    }


def _covers(owner: dns.name.Name, nxt: dns.name.Name, name: dns.name.Name) -> bool:
    """``owner`` < ``name`` < ``nxt`` in canonical order; the last NSEC of a zone wraps (RFC 4034 §4.1.1)."""
    return bool(owner < name < nxt) if owner < nxt else bool(name > owner or name < nxt)


def _nodata_types_ok(types: set[int], qtype: dns.rdatatype.RdataType) -> str:
    if qtype in types or dns.rdatatype.CNAME in types:
        return f"the NSEC lists {dns.rdatatype.to_text(qtype)} or CNAME"
    return ""


def _nsec_proof(
    qname: dns.name.Name,
    qtype: dns.rdatatype.RdataType,
    nxdomain: bool,
    nsecs: list[tuple[dns.name.Name, dns.rdata.Rdata]],
) -> Denial:
    records = [(o, r) for o, r in nsecs if isinstance(r, dns.rdtypes.ANY.NSEC.NSEC)]
    if not nxdomain:
        for owner, nsec in records:
            if owner == qname:
                types = _types(nsec)
                problem = _nodata_types_ok(types, qtype)
                if qtype == dns.rdatatype.DS and dns.rdatatype.SOA in types:
                    problem = "the NSEC comes from the child zone, not the parent (RFC 6840 §4.4)"
                cut = qtype == dns.rdatatype.DS and dns.rdatatype.NS in types
                return Denial(not problem, problem, delegation=cut and not problem)
            if _covers(owner, nsec.next, qname) and nsec.next.is_subdomain(qname):
                return Denial(True)  # an empty non-terminal (RFC 7129 §3.2)
        return Denial(False, f"no NSEC proves that {display(qname)} has no {dns.rdatatype.to_text(qtype)}")
    covering = [(o, r) for o, r in records if _covers(o, r.next, qname)]
    if not covering:
        return Denial(False, f"no NSEC covers {display(qname)}")
    owner, nsec = covering[0]
    encloser = max(
        (qname.fullcompare(owner)[2], qname.fullcompare(nsec.next)[2]),
    )
    closest = dns.name.Name(qname.labels[-encloser:]) if encloser else dns.name.root
    wildcard = dns.name.Name(("*", *closest.labels))
    if not any(_covers(o, r.next, wildcard) for o, r in records):
        return Denial(False, f"no NSEC proves that no wildcard {display(wildcard)} exists")
    return Denial(True)


def _nsec3_proof(
    qname: dns.name.Name,
    qtype: dns.rdatatype.RdataType,
    nxdomain: bool,
    zone: dns.name.Name,
    nsecs: list[tuple[dns.name.Name, dns.rdata.Rdata]],
) -> Denial:
    records = [(o, r) for o, r in nsecs if isinstance(r, dns.rdtypes.ANY.NSEC3.NSEC3)]
    first = records[0][1]
    if first.algorithm != 1:
        return Denial(False, f"NSEC3 hash algorithm {first.algorithm} is unknown")

    def hashed(name: dns.name.Name) -> str:
        return dns.dnssec.nsec3_hash(name, first.salt, first.iterations, first.algorithm).lower()

    chain = [(o.labels[0].decode().lower(), r) for o, r in records if o.parent() == zone]

    def matching(name: dns.name.Name) -> dns.rdtypes.ANY.NSEC3.NSEC3 | None:
        digest = hashed(name)
        return next((r for h, r in chain if h == digest), None)

    def covering(name: dns.name.Name) -> dns.rdtypes.ANY.NSEC3.NSEC3 | None:
        digest = hashed(name)
        for owner_hash, rdata in chain:
            nxt = base64.b32hexencode(rdata.next).decode().lower().rstrip("=")  # ordered like the owners
            inside = owner_hash < digest < nxt if owner_hash < nxt else (digest > owner_hash or digest < nxt)
            if inside:
                return rdata
        return None

    exact = matching(qname)
    if not nxdomain and exact is not None:
        types = _types(exact)
        problem = _nodata_types_ok(types, qtype)
        if qtype == dns.rdatatype.DS and dns.rdatatype.SOA in types:
            problem = "the NSEC3 comes from the child zone, not the parent (RFC 6840 §4.4)"
        cut = qtype == dns.rdatatype.DS and dns.rdatatype.NS in types
        return Denial(not problem, problem, delegation=cut and not problem)
    # Closest encloser proof (RFC 5155 §7.2.1, §8.3): an ancestor matches, the next closer name is covered.
    name = qname
    while name != zone and name.is_subdomain(zone):
        parent = name.parent()
        if matching(parent) is not None:
            cover = covering(name)
            if cover is None:
                break
            if not nxdomain and qtype == dns.rdatatype.DS and cover.flags & 1:
                return Denial(True, delegation=True, opt_out=True)  # RFC 5155 §8.6: opt-out, insecure
            if nxdomain and covering(dns.name.Name(("*", *parent.labels))) is None:
                return Denial(False, f"no NSEC3 proves that no wildcard *.{display(parent)} exists")
            if nxdomain:
                return Denial(True)
            break
        name = parent
    return Denial(False, f"no NSEC3 closest-encloser proof for {display(qname)}")
