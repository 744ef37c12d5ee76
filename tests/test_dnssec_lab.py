"""DNSSEC and DANE checks end to end against signed lab zones, with the lab's trust anchor."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from mimawari.checks import ALL_CHECKS
from mimawari.lab import DnsLab, zones_from_yaml
from mimawari.model import Grade, Severity, Target
from mimawari.parse.dnssec import Security
from mimawari.scan import DomainReport, scan_domains
from mimawari.serial import from_json, to_json
from tests.helpers import lab_network

IDS = (
    "dns.dnssec.status",
    "dns.dnssec.ds",
    "dns.dnssec.algorithms",
    "dns.dnssec.mx",
    "email.dane.tlsa",
    "email.dane.usable",
)
CHECKS = {check_id: ALL_CHECKS[check_id] for check_id in IDS}
SPKI = "8cb0fc6c527506a053f4f14c8464bebbd6dede2738d11468dd953d7d6a3021f1"

LAB_YAML = f"""
https: {{sites: {{}}}}                 # another part of the lab; the DNS lab ignores it
zones:
  example:
    dnssec: {{}}
  secure.example:
    dnssec: {{}}
    records:
      "@": {{MX: 10 mx.secure.example.}}
      mx: {{A: 192.0.2.10}}
      _25._tcp.mx: {{TLSA: 3 1 1 {SPKI}}}
  pkix.example:
    dnssec: {{algorithm: ED25519}}
    records:
      "@": {{MX: [10 mx1.pkix.example., 20 mx2.pkix.example.]}}
      mx1: {{A: 192.0.2.11}}
      mx2: {{A: 192.0.2.12}}
      _25._tcp.mx1: {{TLSA: [1 1 1 {SPKI}, 3 1 1 {SPKI}]}}
      _25._tcp.mx2: {{TLSA: 1 0 1 {SPKI}}}
  broken.example:
    dnssec: {{broken: ["@"]}}
    records:
      "@": {{MX: 10 mx.secure.example.}}
  mismatch.example:
    dnssec: {{ds: mismatch}}
    records:
      "@": {{MX: 10 mx.secure.example.}}
  expired.example:
    dnssec: {{expired: true}}
    records:
      "@": {{MX: 10 mx.secure.example.}}
  legacy.example:
    dnssec: {{algorithm: RSASHA1, ds_digest: SHA1}}
    records:
      "@": {{MX: 10 mx.plain.example.}}
  plain.example:
    records:
      "@": {{MX: 10 mx.plain.example.}}
      mx: {{A: 192.0.2.20}}
      _25._tcp.mx: {{TLSA: 3 1 1 {SPKI}}}
  slow.example:
    dnssec: {{}}
    records:
      "@": {{MX: 10 mx.secure.example.}}
behaviour:
  slow.example: drop
"""


@pytest.fixture
async def signed_lab() -> AsyncIterator[DnsLab]:
    async with DnsLab(zones_from_yaml(LAB_YAML)) as lab:
        yield lab


async def scan(lab: DnsLab, *domains: str) -> dict[str, DomainReport]:
    targets = [Target(d, trust_anchors=lab.trust_anchors) for d in domains]
    reports = await scan_domains(targets, lab_network(lab.nameserver), CHECKS)
    return {r.domain: r for r in reports}


def grades(report: DomainReport) -> dict[str, Grade]:
    return {f.check_id: f.grade for f in report.findings}


async def test_lab_exposes_its_trust_anchor(signed_lab: DnsLab) -> None:
    (anchor,) = signed_lab.trust_anchors
    assert anchor.startswith("example. IN DS ")
    assert signed_lab.trust_anchor_text == anchor + "\n"


async def test_secure_chain_with_dane(signed_lab: DnsLab) -> None:
    report = (await scan(signed_lab, "secure.example"))["secure.example"]
    assert grades(report) == {
        "dns.dnssec.status": Grade.A,
        "dns.dnssec.ds": Grade.A,
        "dns.dnssec.algorithms": Grade.A,
        "dns.dnssec.mx": Grade.A,
        "email.dane.tlsa": Grade.A,
        "email.dane.usable": Grade.A,
    }
    observation = report.observations["dnssec"]
    assert [link.zone for link in observation.domain_validation.links] == ["example", "secure.example"]
    assert from_json(type(observation), to_json(observation)) == observation
    dane = report.observations["dane"]
    assert from_json(type(dane), to_json(dane)) == dane


async def test_broken_signature_is_bogus_and_critical(signed_lab: DnsLab) -> None:
    report = (await scan(signed_lab, "broken.example"))["broken.example"]
    (status,) = [f for f in report.findings if f.check_id == "dns.dnssec.status"]
    assert (status.grade, status.severity) == (Grade.E, Severity.CRITICAL)
    assert "signature does not verify" in status.summary.en
    assert status.after_fix is not None and status.after_fix.grade is Grade.A
    assert grades(report)["dns.dnssec.mx"] is Grade.A  # its MX host lives in a healthy zone


async def test_ds_mismatch_is_bogus_with_the_right_ds_as_fix(signed_lab: DnsLab) -> None:
    report = (await scan(signed_lab, "mismatch.example"))["mismatch.example"]
    found = {f.check_id: f for f in report.findings}
    assert found["dns.dnssec.status"].grade is Grade.E
    ds = found["dns.dnssec.ds"]
    assert ds.grade is Grade.E
    assert "matches a DNSKEY" in ds.summary.en or "matches a DNSKEY" in ds.summary.en.replace("no DS", "")
    assert ds.fix is not None and ds.fix.snippet is not None
    assert ds.fix.snippet.startswith("mismatch.example. IN DS ")
    assert ds.after_fix is not None and ds.after_fix.grade is Grade.A
    link = report.observations["dnssec"].domain_validation.links[-1]
    assert link.expected_ds and link.expected_ds[0] in ds.fix.snippet


async def test_unsigned_child_is_insecure_with_nsec_proof(signed_lab: DnsLab) -> None:
    report = (await scan(signed_lab, "plain.example"))["plain.example"]
    found = {f.check_id: f for f in report.findings}
    assert found["dns.dnssec.status"].grade is Grade.C
    assert found["dns.dnssec.status"].after_fix is not None
    assert found["dns.dnssec.status"].after_fix.grade is Grade.A
    validation = report.observations["dnssec"].domain_validation
    assert validation.security is Security.INSECURE
    assert "proves that plain.example has no DS" in validation.links[-1].proof
    assert found["dns.dnssec.ds"].grade is Grade.NA
    assert found["dns.dnssec.mx"].grade is Grade.C
    tlsa = found["email.dane.tlsa"]
    assert tlsa.grade is Grade.C
    assert "ignore" in tlsa.summary.en
    assert found["email.dane.usable"].grade is Grade.NA


async def test_expired_signatures_are_bogus(signed_lab: DnsLab) -> None:
    report = (await scan(signed_lab, "expired.example"))["expired.example"]
    status = next(f for f in report.findings if f.check_id == "dns.dnssec.status")
    assert status.grade is Grade.E
    assert "expired" in status.summary.en
    assert status.fix is not None and "Re-sign" in status.fix.action.en


async def test_deprecated_algorithm_and_digest(signed_lab: DnsLab) -> None:
    report = (await scan(signed_lab, "legacy.example"))["legacy.example"]
    found = {f.check_id: f for f in report.findings}
    assert found["dns.dnssec.status"].grade is Grade.A  # RSASHA1 still validates
    algorithms = found["dns.dnssec.algorithms"]
    assert algorithms.grade is Grade.C
    assert "RSASHA1 (5)" in algorithms.summary.en and "SHA-1 (1)" in algorithms.summary.en
    assert algorithms.after_fix is not None and algorithms.after_fix.grade is Grade.A
    assert found["dns.dnssec.mx"].grade is Grade.C  # mx.plain.example is unsigned


async def test_pkix_usages_are_not_usable_for_smtp(signed_lab: DnsLab) -> None:
    report = (await scan(signed_lab, "pkix.example"))["pkix.example"]
    found = {f.check_id: f for f in report.findings}
    assert found["email.dane.tlsa"].grade is Grade.A
    usable = found["email.dane.usable"]
    assert usable.grade is Grade.D  # mx2 has only a PKIX-EE record
    assert "mx2.pkix.example" in usable.summary.en
    assert usable.fix is not None and usable.fix.snippet is not None
    assert f"_25._tcp.mx2.pkix.example. IN TLSA 3 0 1 {SPKI}" in usable.fix.snippet
    assert usable.after_fix is not None and usable.after_fix.grade is Grade.A


async def test_timeout_is_unknown_never_insecure(signed_lab: DnsLab) -> None:
    targets = [Target("slow.example", trust_anchors=signed_lab.trust_anchors)]
    network = lab_network(signed_lab.nameserver, timeout=0.2, attempts=1)
    (report,) = await scan_domains(targets, network, CHECKS)
    assert set(grades(report).values()) == {Grade.UNKNOWN}
    status = next(f for f in report.findings if f.check_id == "dns.dnssec.status")
    assert "timeout" in status.summary.en
    assert status.fix is None


async def test_root_anchor_does_not_cover_the_lab(signed_lab: DnsLab) -> None:
    (report,) = await scan_domains(["secure.example"], lab_network(signed_lab.nameserver), CHECKS)
    observation = report.observations["dnssec"]
    assert observation.bundled_anchors
    assert observation.domain_validation.security is Security.UNKNOWN  # the lab refuses "." DNSKEY
    assert grades(report)["dns.dnssec.status"] is Grade.UNKNOWN
