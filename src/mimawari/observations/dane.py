"""DANE for SMTP (RFC 7672): the TLSA records at ``_25._tcp.<mx host>`` and whether senders can use them.

A sending MTA uses DANE for an MX host only when the host's address records and its TLSA RRset are
DNSSEC-secure (RFC 7672 §2.2); TLSA records in an insecure zone are ignored, and a bogus TLSA lookup
makes DANE senders defer the mail. So each host's address and TLSA answers are validated here with the
same chain-of-trust walk as the ``dnssec`` observation (shared queries are asked once per scan).

Matching TLSA records against the certificate an MX host presents needs a STARTTLS connection, which
the MTA-server checks make; ``TlsaRecord.matches`` and ``dane_authenticates`` are the pure half they call.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mimawari.lookup import Plan
from mimawari.model import Status, Target
from mimawari.observations import Observer
from mimawari.observations.dnssec import Validation, mx_hosts_of, together, trust_anchors, validation_plan
from mimawari.parse.dnssec import Security

USAGES = {0: "PKIX-TA", 1: "PKIX-EE", 2: "DANE-TA", 3: "DANE-EE"}
SELECTORS = {0: "Cert", 1: "SPKI"}
MATCHING_TYPES = {0: "Full", 1: "SHA2-256", 2: "SHA2-512"}
DIGEST_LENGTHS = {1: 32, 2: 64}
SMTP_USAGES = frozenset({2, 3})
"""RFC 7672 §3.1.3: only DANE-TA(2) and DANE-EE(3) are usable for SMTP; PKIX-TA(0)/PKIX-EE(1) are not."""


@dataclass(frozen=True)
class TlsaRecord:
    """One TLSA record (RFC 6698 §2.1), parsed, with what makes it unusable or malformed."""

    text: str
    usage: int = -1
    selector: int = -1
    matching_type: int = -1
    data: str = ""
    """Certificate association data, lower-case hex."""
    problems: tuple[str, ...] = ()

    @property
    def well_formed(self) -> bool:
        return not self.problems

    @property
    def usable(self) -> bool:
        """Usable by an SMTP client (RFC 7672 §3.1.3): a DANE usage and a well-formed record."""
        return self.well_formed and self.usage in SMTP_USAGES

    def describe(self) -> str:
        names = (USAGES.get(self.usage), SELECTORS.get(self.selector), MATCHING_TYPES.get(self.matching_type))
        return f"{self.text} ({' '.join(n or '?' for n in names)})"

    def matches(self, certificate_der: bytes) -> bool:
        """Does this record's association data match the certificate (RFC 6698 §2.1.2–§2.1.3)?"""
        if not self.well_formed:
            return False
        try:
            cert = x509.load_der_x509_certificate(certificate_der)
        except ValueError:
            return False
        selected = (
            certificate_der
            if self.selector == 0
            else cert.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        digest = {0: selected, 1: hashlib.sha256(selected).digest(), 2: hashlib.sha512(selected).digest()}
        return digest[self.matching_type].hex() == self.data


def parse_tlsa(text: str) -> TlsaRecord:
    """A TLSA record from presentation format; never raises, problems are listed instead.

    Parsed by hand rather than by dnspython, which refuses a digest of the wrong length outright: the
    owner should hear which field is wrong and by how much.
    """
    tokens = text.split()
    fields = tokens[:3]
    try:
        if len(tokens) < 4 or not all(f.isdigit() and int(f) < 256 for f in fields):
            raise ValueError("expected: usage selector matching-type data")
        data = bytes.fromhex("".join(tokens[3:]))
    except ValueError as exc:
        return TlsaRecord(text, problems=(f"does not parse: {exc}",))
    usage, selector, mtype = map(int, fields)
    problems = []
    if usage not in USAGES:
        problems.append(f"usage {usage} is not assigned (0–3)")
    if selector not in SELECTORS:
        problems.append(f"selector {selector} is not assigned (0 or 1)")
    if mtype not in MATCHING_TYPES:
        problems.append(f"matching type {mtype} is not assigned (0–2)")
    elif mtype in DIGEST_LENGTHS and len(data) != DIGEST_LENGTHS[mtype]:
        problems.append(
            f"{MATCHING_TYPES[mtype]} data is {len(data)} bytes, not {DIGEST_LENGTHS[mtype]} bytes"
        )
    elif mtype == 0 and selector in SELECTORS and not _parses_as(selector, data):
        problems.append(f"full {SELECTORS[selector]} data is not a DER {SELECTORS[selector]}")
    return TlsaRecord(text, usage, selector, mtype, data.hex(), tuple(problems))


def _parses_as(selector: int, data: bytes) -> bool:
    try:
        if selector == 0:
            x509.load_der_x509_certificate(data)
        else:
            serialization.load_der_public_key(data)
    except (ValueError, TypeError):
        return False
    return True


def dane_authenticates(records: Sequence[TlsaRecord], chain_der: Sequence[bytes]) -> bool:
    """Whether a server's certificate chain (leaf first) is authenticated by its usable TLSA records.

    DANE-EE(3) matches the leaf certificate only, DANE-TA(2) a certificate above it (RFC 7672 §3.1.1,
    §3.1.2). The MX host name check that DANE-TA also requires (§3.2.2) is the caller's, with the chain.
    """
    if not chain_der:
        return False
    for record in (r for r in records if r.usable):
        candidates = chain_der[:1] if record.usage == 3 else chain_der[1:]
        if any(record.matches(cert) for cert in candidates):
            return True
    return False


@dataclass(frozen=True)
class MxTlsa:
    """One MX host: its address answer and its TLSA answer, each with its DNSSEC status."""

    host: str
    address: Validation
    tlsa: Validation
    records: tuple[TlsaRecord, ...] = ()

    @property
    def secure(self) -> bool:
        """True when senders can use DANE for this host: address and TLSA answers are secure."""
        return self.address.security is Security.SECURE and self.tlsa.security is Security.SECURE

    @property
    def usable(self) -> tuple[TlsaRecord, ...]:
        return tuple(r for r in self.records if r.usable)


@dataclass(frozen=True)
class DaneObservation:
    domain: str
    mx: Validation
    hosts: tuple[MxTlsa, ...] = ()
    validated_at: int = 0


def tlsa_name(host: str) -> str:
    return f"_25._tcp.{host}"


def dane_plan(target: Target) -> Plan[DaneObservation]:
    anchors, _ = trust_anchors(target)
    now = target.moment()
    mx = yield from validation_plan(target.domain, "MX", anchors, now)
    hosts = mx_hosts_of(mx)
    plans = [validation_plan(host, "A", anchors, now) for host in hosts] + [
        validation_plan(tlsa_name(host), "TLSA", anchors, now) for host in hosts
    ]
    results = yield from together(*plans)
    addresses, tlsas = results[: len(hosts)], results[len(hosts) :]
    checked = tuple(
        MxTlsa(
            host,
            address,
            tlsa,
            tuple(map(parse_tlsa, tlsa.records)) if tlsa.status is Status.PRESENT else (),
        )
        for host, address, tlsa in zip(hosts, addresses, tlsas, strict=True)
    )
    return DaneObservation(target.domain, mx, checked, now)


DANE = Observer("dane", dane_plan)
