"""DNSSEC validation as pure functions over recorded answers (RFC 4033–4035, RFC 5155, RFC 6840).

The lookup plan (``observations.dnssec``) asks the questions; these functions judge the answers:
``zone_keys`` validates a zone's DNSKEY RRset against the DS records (or anchors) above it,
``check_signatures`` validates an RRset against a zone's keys; the NSEC/NSEC3 proofs of NXDOMAIN and
NODATA answers, which tell a provably unsigned delegation (insecure) from a missing proof (bogus), are
in ``parse.dnssec_denial``.
Nothing here raises on hostile input: a record that does not parse is a problem in the result.

Algorithms follow RFC 8624: RSAMD5, DSA and ECC-GOST are not validated (a zone signed only with them is
treated as unsigned, RFC 4035 §5.2); RSASHA1 still validates but is flagged as deprecated, as are DS
records with a SHA-1 digest.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from itertools import repeat

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

from mimawari.dnssec_module import dnssec


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
POLICY = dnssec.rfc_8624_policy


def algorithm_name(number: int) -> str:
    return f"{dnssec.algorithm_to_text(number)} ({number})"


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


def parse_rdatas(rdtype: str, records: Sequence[str]) -> list[dns.rdata.Rdata]:
    """The records that parse, in order (the others are left out: callers judge what is missing)."""
    return [rdata for rdata in map(_parse_rdata, repeat(rdtype), records) if rdata is not None]


@lru_cache(maxsize=8192)
def _parse_rdata(rdtype: str, record: str) -> dns.rdata.Rdata | None:
    # Memoised: a chain's DNSKEYs and DS records are judged again for every name validated under them
    # (each MX host, each TLSA record, by two observers); rdata objects are immutable.
    try:
        return dns.rdata.from_text(dns.rdataclass.IN, rdtype, record)
    except (dns.exception.DNSException, ValueError):
        return None


def dnskeys(records: Sequence[str]) -> list[dns.rdtypes.ANY.DNSKEY.DNSKEY]:
    return [r for r in parse_rdatas("DNSKEY", records) if isinstance(r, dns.rdtypes.ANY.DNSKEY.DNSKEY)]


def ds_records(records: Sequence[str]) -> list[dns.rdtypes.ANY.DS.DS]:
    return [r for r in parse_rdatas("DS", records) if isinstance(r, dns.rdtypes.ANY.DS.DS)]


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
            dnssec.key_id(key)
            for key in keys
            if supported
            and dnssec.key_id(key) == ds.key_tag
            and key.algorithm == ds.algorithm
            and _ds_digest(owner, key, ds.digest_type) == ds.digest
        ]
        matched.extend(hits)
        if not hits:
            unmatched.append(ds.to_text())
    for anchor in dnskeys(anchors):
        usable = usable or anchor.algorithm in VALIDATED_ALGORITHMS
        matched.extend(dnssec.key_id(key) for key in keys if key == anchor)
    return DsMatch(tuple(dict.fromkeys(matched)), tuple(unmatched), usable)


def _ds_digest(owner: dns.name.Name, key: dns.rdtypes.ANY.DNSKEY.DNSKEY, digest_type: int) -> bytes:
    try:
        return dnssec.make_ds(
            owner, key, dns.dnssectypes.DSDigest(digest_type), policy=dnssec.allow_all_policy
        ).digest
    except (dns.exception.DNSException, ValueError):
        return b""


def key_tag(key: dns.rdtypes.ANY.DNSKEY.DNSKEY) -> int:
    return dnssec.key_id(key)


def keys_tagged(key_texts: Sequence[str], tags: Sequence[int]) -> tuple[str, ...]:
    """The DNSKEY records (verbatim) whose key tag is in ``tags``."""
    return tuple(text for text in key_texts for key in dnskeys([text]) if dnssec.key_id(key) in tags)


def ds_for(zone: str, key_texts: Sequence[str]) -> tuple[str, ...]:
    """SHA-256 DS records for the zone's key-signing keys (SEP flag; all keys when none has it)."""
    keys = dnskeys(key_texts)
    seps = [key for key in keys if key.flags & 1] or keys
    return tuple(dnssec.make_ds(zone_name(zone), key, "SHA256").to_text() for key in seps)


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
    return _check_signatures(
        owner, rdtype, tuple(records), tuple(signatures), zone, tuple(key_texts), now, ttl
    )


@lru_cache(maxsize=4096)
def _check_signatures(
    owner: str,
    rdtype: str,
    records: tuple[str, ...],
    signatures: tuple[str, ...],
    zone: str,
    key_texts: tuple[str, ...],
    now: int,
    ttl: int,
) -> SignatureCheck:
    # Memoised: the same RRsets (a zone's DNSKEYs, a shared provider's records) are checked for every
    # name validated under them. Every input is part of the key, so a cached verdict is the verdict.
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
    for rrsig in parse_rdatas("RRSIG", signatures):
        assert isinstance(rrsig, dns.rdtypes.ANY.RRSIG.RRSIG)
        if rrsig.signer != signer:  # RFC 4035 §5.3.1: the signer is the zone that holds the RRset
            problems.append(f"RRSIG by {display(rrsig.signer)}, not by the zone {display(zone)}")
            continue
        try:
            dnssec.validate_rrsig(rrset, rrsig, {signer: keyset}, now=now, policy=POLICY)
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
