"""DNSSEC validation as pure functions over recorded answers (RFC 4033–4035, RFC 5155, RFC 6840).

The lookup plan (``observations.dnssec``) asks the questions; these functions judge the answers:
``zone_keys`` validates a zone's DNSKEY RRset against the DS records (or anchors) above it,
``check_answer`` validates an RRset against a zone's keys, or the NSEC/NSEC3 proof of an NXDOMAIN or
NODATA, and ``ds_denial`` tells a provably unsigned delegation (insecure) from a missing proof (bogus).
Nothing here raises on hostile input: a record that does not parse is a problem in the result.

Algorithms follow RFC 8624: RSAMD5, DSA and ECC-GOST are not validated (a zone signed only with them is
treated as unsigned, RFC 4035 §5.2); RSASHA1 still validates but is flagged as deprecated, as are DS
records with a SHA-1 digest.
"""

from __future__ import annotations

import base64
import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import dns.dnssec
import dns.dnssectypes
import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.rdtypes.ANY.DNSKEY
import dns.rdtypes.ANY.DS
import dns.rdtypes.ANY.NSEC
import dns.rdtypes.ANY.NSEC3
import dns.rdtypes.ANY.RRSIG

from mimawari.lookup import DnsAnswer
from mimawari.model import Status


class Security(StrEnum):
    """RFC 4033 §5 security status of a name's data, plus ``unknown`` when a lookup failed."""

    SECURE = "secure"
    INSECURE = "insecure"
    BOGUS = "bogus"
    UNKNOWN = "unknown"
    INDETERMINATE = "indeterminate"
    """No trust anchor covers the name, so nothing can be proven either way."""


MUST_NOT_ALGORITHMS = frozenset({1, 3, 6, 12})
"""RFC 8624 §3.1: RSAMD5, DSA, DSA-NSEC3-SHA1 and ECC-GOST MUST NOT be used to sign."""
DEPRECATED_ALGORITHMS = MUST_NOT_ALGORITHMS | {5, 7}
"""…and RSASHA1 and RSASHA1-NSEC3-SHA1 are NOT RECOMMENDED."""
DEPRECATED_DIGESTS = frozenset({0, 1, 3})
"""RFC 8624 §3.3: DS digests NULL, SHA-1 and GOST R 34.11-94 MUST NOT be created."""
DIGEST_NAMES = {0: "NULL", 1: "SHA-1", 2: "SHA-256", 3: "GOST R 34.11-94", 4: "SHA-384"}
VALIDATED_ALGORITHMS = frozenset({5, 7, 8, 10, 13, 14, 15, 16})
VALIDATED_DIGESTS = frozenset({1, 2, 4})
POLICY = dns.dnssec.rfc_8624_policy


def algorithm_name(number: int) -> str:
    return f"{dns.dnssec.algorithm_to_text(number)} ({number})"


def digest_name(number: int) -> str:
    return f"{DIGEST_NAMES.get(number, 'unassigned')} ({number})"


def zone_name(text: str) -> dns.name.Name:
    return dns.name.from_text(text.rstrip(".") + ".")


def display(name: dns.name.Name | str) -> str:
    text = name if isinstance(name, str) else name.to_text(omit_final_dot=True)
    return text.rstrip(".") or "."


@dataclass(frozen=True)
class TrustAnchor:
    """A DS or DNSKEY record that is trusted without proof (RFC 4033 §2), in presentation format."""

    zone: str
    rdtype: str
    rdata: str

    def __str__(self) -> str:
        return f"{display(self.zone)}. IN {self.rdtype} {self.rdata}".replace("..", ".")


def parse_trust_anchor(line: str) -> TrustAnchor | None:
    """``owner [TTL] [IN] DS|DNSKEY rdata``; None when the line is not such a record."""
    tokens = line.split()
    kinds = [i for i, token in enumerate(tokens) if token.upper() in ("DS", "DNSKEY")]
    if len(tokens) < 3 or not kinds or kinds[0] == 0:
        return None
    rdtype, rdata = tokens[kinds[0]].upper(), " ".join(tokens[kinds[0] + 1 :])
    try:
        zone = zone_name(tokens[0])
        dns.rdata.from_text(dns.rdataclass.IN, rdtype, rdata)
    except (dns.exception.DNSException, ValueError):
        return None
    return TrustAnchor(display(zone), rdtype, rdata)


def _rdatas(rdtype: str, records: Sequence[str]) -> list[dns.rdata.Rdata]:
    parsed = []
    for record in records:
        try:
            parsed.append(dns.rdata.from_text(dns.rdataclass.IN, rdtype, record))
        except (dns.exception.DNSException, ValueError):
            continue
    return parsed


def dnskeys(records: Sequence[str]) -> list[dns.rdtypes.ANY.DNSKEY.DNSKEY]:
    return [r for r in _rdatas("DNSKEY", records) if isinstance(r, dns.rdtypes.ANY.DNSKEY.DNSKEY)]


def ds_records(records: Sequence[str]) -> list[dns.rdtypes.ANY.DS.DS]:
    return [r for r in _rdatas("DS", records) if isinstance(r, dns.rdtypes.ANY.DS.DS)]


@dataclass(frozen=True)
class DsMatch:
    """Which DS records of a zone name one of its DNSKEYs (RFC 4035 §5.2)."""

    matched: tuple[int, ...]
    """Key tags of DNSKEYs that a DS (or a DNSKEY anchor) vouches for."""
    unmatched: tuple[str, ...]
    """DS records, verbatim, that match no DNSKEY."""
    usable: bool
    """At least one DS uses an algorithm and digest we validate; if none does, the zone counts as unsigned."""


def match_ds(
    zone: str, ds_texts: Sequence[str], key_texts: Sequence[str], anchors: Sequence[str] = ()
) -> DsMatch:
    """Match DS records (and DNSKEY trust anchors given as rdata) against the zone's DNSKEYs."""
    owner = zone_name(zone)
    keys = dnskeys(key_texts)
    matched: list[int] = []
    unmatched: list[str] = []
    usable = False
    for ds in ds_records(ds_texts):
        supported = ds.algorithm in VALIDATED_ALGORITHMS and ds.digest_type in VALIDATED_DIGESTS
        usable = usable or supported
        hits = [
            dns.dnssec.key_id(key)
            for key in keys
            if supported
            and dns.dnssec.key_id(key) == ds.key_tag
            and key.algorithm == ds.algorithm
            and _ds_digest(owner, key, ds.digest_type) == ds.digest
        ]
        matched.extend(hits)
        if not hits:
            unmatched.append(ds.to_text())
    for anchor in dnskeys(anchors):
        usable = usable or anchor.algorithm in VALIDATED_ALGORITHMS
        matched.extend(dns.dnssec.key_id(key) for key in keys if key == anchor)
    return DsMatch(tuple(dict.fromkeys(matched)), tuple(unmatched), usable)


def _ds_digest(owner: dns.name.Name, key: dns.rdtypes.ANY.DNSKEY.DNSKEY, digest_type: int) -> bytes:
    try:
        return dns.dnssec.make_ds(
            owner, key, dns.dnssectypes.DSDigest(digest_type), policy=dns.dnssec.allow_all_policy
        ).digest
    except (dns.exception.DNSException, ValueError):
        return b""


def key_tag(key: dns.rdtypes.ANY.DNSKEY.DNSKEY) -> int:
    return dns.dnssec.key_id(key)


def keys_tagged(key_texts: Sequence[str], tags: Sequence[int]) -> tuple[str, ...]:
    """The DNSKEY records (verbatim) whose key tag is in ``tags``."""
    return tuple(text for text in key_texts for key in dnskeys([text]) if dns.dnssec.key_id(key) in tags)


def ds_for(zone: str, key_texts: Sequence[str]) -> tuple[str, ...]:
    """SHA-256 DS records for the zone's key-signing keys (SEP flag; all keys when none has it)."""
    keys = dnskeys(key_texts)
    seps = [key for key in keys if key.flags & 1] or keys
    return tuple(dns.dnssec.make_ds(zone_name(zone), key, "SHA256").to_text() for key in seps)


@dataclass(frozen=True)
class SignatureCheck:
    valid: bool
    problem: str = ""
    key_tags: tuple[int, ...] = ()
    """Tags of the keys whose signatures verified."""


def check_signatures(
    owner: str,
    rdtype: str,
    records: Sequence[str],
    signatures: Sequence[str],
    zone: str,
    key_texts: Sequence[str],
    now: int,
    ttl: int = 0,
) -> SignatureCheck:
    """Does at least one RRSIG by the zone's keys verify over the RRset (RFC 4035 §5.3)?"""
    if not signatures:
        return SignatureCheck(
            False, f"no RRSIG over {display(owner)} {rdtype} in the signed zone {display(zone)}"
        )
    try:
        name = zone_name(owner)
        rrset = dns.rrset.from_text_list(name, ttl, "IN", rdtype, list(records))
    except (dns.exception.DNSException, ValueError) as exc:
        return SignatureCheck(False, f"{display(owner)} {rdtype}: records do not parse ({exc})")
    signer = zone_name(zone)
    keyset = dns.rdataset.Rdataset(dns.rdataclass.IN, dns.rdatatype.DNSKEY)
    for key in dnskeys(key_texts):
        keyset.add(key)
    problems: list[str] = []
    verified: list[int] = []
    for rrsig in _rdatas("RRSIG", signatures):
        assert isinstance(rrsig, dns.rdtypes.ANY.RRSIG.RRSIG)
        if rrsig.signer != signer:  # RFC 4035 §5.3.1: the signer is the zone that holds the RRset
            problems.append(f"RRSIG by {display(rrsig.signer)}, not by the zone {display(zone)}")
            continue
        try:
            dns.dnssec.validate_rrsig(rrset, rrsig, {signer: keyset}, now=now, policy=POLICY)
        except (dns.exception.ValidationFailure, dns.exception.UnsupportedAlgorithm) as exc:
            problems.append(_explain(rrsig, str(exc)))
            continue
        verified.append(rrsig.key_tag)
    if verified:
        return SignatureCheck(True, key_tags=tuple(verified))
    return SignatureCheck(False, f"{display(owner)} {rdtype}: " + "; ".join(problems or ["no usable RRSIG"]))


def _explain(rrsig: dns.rdtypes.ANY.RRSIG.RRSIG, reason: str) -> str:
    stamp = {"expired": rrsig.expiration, "not yet valid": rrsig.inception}.get(reason)
    when = f" ({_utc(stamp)})" if stamp is not None else ""
    reason = {
        "unknown key": "no DNSKEY with that tag and algorithm",
        "verify failure": "signature does not verify",
    }.get(reason, reason)
    return f"RRSIG key {rrsig.key_tag} alg {rrsig.algorithm}: {reason}{when}"


def _utc(stamp: int) -> str:
    return datetime.datetime.fromtimestamp(stamp, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


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
        nsecs.extend((owner, r) for r in _rdatas(rdtype, rdatas))
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
