"""DANE: TLSA parsing, certificate matching (the hook for the MTA checks), checks on recorded data."""

from __future__ import annotations

import datetime
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from mimawari.checks.email.dns.dane import tlsa as tlsa_check
from mimawari.checks.email.dns.dane import usable as usable_check
from mimawari.lookup import DnsAnswer, Query
from mimawari.model import Grade, Severity, Status
from mimawari.observations.dane import DaneObservation, MxTlsa, dane_authenticates, parse_tlsa
from mimawari.observations.dnssec import Validation
from mimawari.parse.dnssec import Security
from tests.helpers import finding, recorded

DIGEST = "ab" * 32


def certificate(name: str = "mx.example.test") -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


@pytest.mark.parametrize(
    ("text", "usable", "problem"),
    [
        (f"3 1 1 {DIGEST}", True, ""),
        (f"2 0 1 {DIGEST}", True, ""),
        (f"1 1 1 {DIGEST}", False, ""),
        (f"0 0 1 {DIGEST}", False, ""),
        (f"3 1 1 {DIGEST[:-2]}", False, "31 bytes, not 32"),
        (f"3 1 2 {DIGEST}", False, "not 64 bytes"),
        (f"4 1 1 {DIGEST}", False, "usage 4"),
        (f"3 2 1 {DIGEST}", False, "selector 2"),
        (f"3 1 3 {DIGEST}", False, "matching type 3"),
        ("3 1 0 abcd", False, "not a DER SPKI"),
        ("3 1 1 not-hex", False, "does not parse"),
        ("", False, "does not parse"),
    ],
)
def test_parse_tlsa(text: str, usable: bool, problem: str) -> None:
    record = parse_tlsa(text)
    assert record.usable is usable
    assert problem in " ".join(record.problems)
    if not problem:
        assert record.well_formed


def test_tlsa_matches_a_certificate() -> None:
    der = certificate()
    cert = x509.load_der_x509_certificate(der)
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert parse_tlsa(f"3 1 1 {hashlib.sha256(spki).hexdigest()}").matches(der)
    assert parse_tlsa(f"3 0 2 {hashlib.sha512(der).hexdigest()}").matches(der)
    assert parse_tlsa(f"3 0 0 {der.hex()}").matches(der)
    assert not parse_tlsa(f"3 1 1 {DIGEST}").matches(der)
    assert not parse_tlsa(f"3 1 1 {hashlib.sha256(spki).hexdigest()}").matches(b"not a certificate")


def test_dane_ee_matches_the_leaf_and_dane_ta_the_issuer() -> None:
    leaf, issuer = certificate(), certificate("ca.example.test")
    leaf_hash, issuer_hash = hashlib.sha256(leaf).hexdigest(), hashlib.sha256(issuer).hexdigest()
    assert dane_authenticates([parse_tlsa(f"3 0 1 {leaf_hash}")], [leaf, issuer])
    assert dane_authenticates([parse_tlsa(f"2 0 1 {issuer_hash}")], [leaf, issuer])
    assert not dane_authenticates([parse_tlsa(f"2 0 1 {leaf_hash}")], [leaf, issuer])
    assert not dane_authenticates([parse_tlsa(f"1 0 1 {leaf_hash}")], [leaf, issuer])  # PKIX-EE unusable
    assert not dane_authenticates([parse_tlsa(f"3 0 1 {leaf_hash}")], [])


def validation(
    name: str, security: Security, records: tuple[str, ...] = (), *, failed: bool = False
) -> Validation:
    status = Status.PRESENT if records else Status.ABSENT
    lookup = DnsAnswer(Query.of(name, "TLSA", dnssec=True), Status.TIMEOUT) if failed else None
    return Validation(
        name,
        "TLSA",
        security,
        "example.test",
        (),
        Status.TIMEOUT if failed else status,
        records,
        failed=lookup,
    )


def host(name: str, security: Security, *records: str, address: Security = Security.SECURE) -> MxTlsa:
    tlsa = validation(f"_25._tcp.{name}", security, records, failed=security is Security.UNKNOWN)
    return MxTlsa(name, validation(name, address), tlsa, tuple(map(parse_tlsa, records)))


def observation(*hosts: MxTlsa) -> DaneObservation:
    mx = validation("example.test", Security.SECURE, tuple(f"10 {h.host}." for h in hosts))
    return DaneObservation("example.test", mx, hosts)


def test_secure_tlsa_everywhere_is_a() -> None:
    verdict = tlsa_check.evaluate(observation(host("mx1.example.test", Security.SECURE, f"3 1 1 {DIGEST}")))
    assert verdict.grade is Grade.A and verdict.fix is None


def test_missing_tlsa_gives_the_record_to_publish() -> None:
    verdict = tlsa_check.evaluate(observation(host("mx1.example.test", Security.SECURE)))
    assert verdict.grade is Grade.C
    assert verdict.fix is not None and verdict.fix.snippet is not None
    assert "_25._tcp.mx1.example.test. IN TLSA 3 1 1 <SHA-256 of the SPKI>" in verdict.fix.snippet
    assert "openssl" in verdict.fix.snippet
    assert verdict.after_fix is not None and verdict.after_fix.grade is Grade.A
    assert "TLSA レコードがない" in verdict.summary.ja


def test_tlsa_in_an_insecure_zone_is_ignored() -> None:
    verdict = tlsa_check.evaluate(observation(host("mx.example.test", Security.INSECURE, f"3 1 1 {DIGEST}")))
    assert verdict.grade is Grade.C and "senders ignore" in verdict.summary.en


def test_insecure_address_makes_tlsa_unusable() -> None:
    insecure_a = host("mx.example.test", Security.SECURE, f"3 1 1 {DIGEST}", address=Security.INSECURE)
    assert tlsa_check.evaluate(observation(insecure_a)).grade is Grade.C


def test_bogus_tlsa_is_critical() -> None:
    verdict = tlsa_check.evaluate(observation(host("mx.example.test", Security.BOGUS, f"3 1 1 {DIGEST}")))
    assert (verdict.grade, verdict.severity) == (Grade.E, Severity.CRITICAL)


def test_partial_coverage_is_c() -> None:
    hosts = (
        host("mx1.example.test", Security.SECURE, f"3 1 1 {DIGEST}"),
        host("mx2.example.test", Security.SECURE),
    )
    verdict = tlsa_check.evaluate(observation(*hosts))
    assert verdict.grade is Grade.C and "mx2.example.test" in verdict.summary.en
    assert "mx1" not in (verdict.fix.snippet if verdict.fix and verdict.fix.snippet else "")


def test_tlsa_timeout_is_unknown() -> None:
    verdict = tlsa_check.evaluate(observation(host("mx.example.test", Security.UNKNOWN)))
    assert verdict.grade is Grade.UNKNOWN and "timeout" in verdict.summary.en
    assert (
        usable_check.evaluate(observation(host("mx.example.test", Security.UNKNOWN))).grade is Grade.UNKNOWN
    )


def test_no_mx_is_not_applicable() -> None:
    assert tlsa_check.evaluate(observation()).grade is Grade.NA
    assert usable_check.evaluate(observation()).grade is Grade.NA


def test_usable_grades() -> None:
    good = host("mx1.example.test", Security.SECURE, f"3 1 1 {DIGEST}")
    mixed = host("mx1.example.test", Security.SECURE, f"3 1 1 {DIGEST}", f"1 1 1 {DIGEST}")
    hopeless = host("mx2.example.test", Security.SECURE, f"0 0 1 {DIGEST}")
    assert usable_check.evaluate(observation(good)).grade is Grade.A
    some = usable_check.evaluate(observation(mixed))
    assert some.grade is Grade.B
    assert some.fix is not None and some.fix.snippet == f"_25._tcp.mx1.example.test. IN TLSA 3 1 1 {DIGEST}"
    none = usable_check.evaluate(observation(good, hopeless))
    assert none.grade is Grade.D
    assert none.fix is not None and none.fix.snippet == f"_25._tcp.mx2.example.test. IN TLSA 2 0 1 {DIGEST}"
    assert none.after_fix is not None and none.after_fix.grade is Grade.A


def test_unrecorded_snapshot_is_unknown_never_missing() -> None:
    snapshot = recorded("example.test", {"example.test MX": ["10 mx.example.test."]})
    for check_id in ("email.dane.tlsa", "email.dane.usable", "dns.dnssec.status", "dns.dnssec.mx"):
        assert finding(snapshot, check_id).grade is Grade.UNKNOWN, check_id
