"""MX and PTR checks end to end: lab DNS (forward and reverse zones) → observation → findings."""

from __future__ import annotations

from mimawari.lab import DnsLab, zones_from_yaml
from mimawari.lookup import Snapshot
from mimawari.model import Grade
from mimawari.observations.mx import MxObservation
from mimawari.scan import DomainReport, evaluate_snapshot, scan_domains
from mimawari.serial import from_json, to_json
from tests.helpers import lab_network

LAB = """
zones:
  good.test:
    records:
      "@": {MX: [10 mx1.good.test., 20 mx2.good.test.]}
      mx1: {A: 203.0.113.10, AAAA: "2001:db8::10"}
      mx2: {A: 198.51.100.20}
  broken.test:
    records:
      "@": {MX: [10 alias.broken.test., 20 gone.broken.test., 30 internal.broken.test., 40 192.0.2.99., 50 .]}
      alias: {CNAME: mx1.good.test.}
      internal: {A: 10.0.0.25}
  nomail.test:
    records:
      "@": {MX: 0 .}
  implicit.test:
    records:
      "@": {A: 192.0.2.80}
  slow.test:
    records:
      "@": {MX: 10 mx.slow.test.}
      mx: {A: 203.0.113.30}
  isp.test:
    records:
      www: {A: 192.0.2.1}
  113.0.203.in-addr.arpa:
    records:
      "10": {PTR: mx1.good.test.}
      "30": {PTR: 30-113-0-203.dsl.isp.test.}
  100.51.198.in-addr.arpa:
    records:
      "20": {PTR: elsewhere.good.test.}
  8.b.d.0.1.0.0.2.ip6.arpa:
    records:
      0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0: {PTR: mx1.good.test.}
behaviour:
  30.113.0.203.in-addr.arpa: drop
"""


async def scan(*domains: str) -> dict[str, DomainReport]:
    async with DnsLab(zones_from_yaml(LAB)) as lab:
        reports = await scan_domains(domains, lab_network(lab.nameserver))
    return {r.domain: r for r in reports}


def grades(report: DomainReport) -> dict[str, Grade]:
    return {
        f.check_id: f.grade for f in report.findings if f.check_id.startswith(("email.mx.", "email.ptr."))
    }


async def test_mx_and_reverse_dns_against_the_lab() -> None:
    reports = await scan("good.test", "broken.test", "nomail.test", "implicit.test", "gone.test", "slow.test")
    assert grades(reports["good.test"]) == {
        "email.mx.present": Grade.A,
        "email.mx.null": Grade.NA,
        "email.mx.resolvable": Grade.A,
        "email.mx.cname": Grade.A,
        "email.mx.ip_literal": Grade.A,
        "email.mx.private_address": Grade.A,
        "email.mx.duplicate": Grade.A,
        "email.ptr.present": Grade.A,
        "email.ptr.fcrdns": Grade.C,  # 198.51.100.20 → elsewhere.good.test, which does not exist
        "email.ptr.generic": Grade.A,
    }
    observation: MxObservation = reports["good.test"].observations["mx"]
    assert [(h.preference, h.exchange, [a.address for a in h.addresses]) for h in observation.hosts] == [
        (10, "mx1.good.test", ["203.0.113.10", "2001:db8::10"]),
        (20, "mx2.good.test", ["198.51.100.20"]),
    ]
    assert {r.address: r.confirmed_names for r in observation.reverse} == {
        "203.0.113.10": ("mx1.good.test",),
        "2001:db8::10": ("mx1.good.test",),
        "198.51.100.20": (),
    }

    broken = grades(reports["broken.test"])
    assert broken["email.mx.null"] is Grade.D
    assert broken["email.mx.cname"] is Grade.C
    assert broken["email.mx.resolvable"] is Grade.C
    assert broken["email.mx.private_address"] is Grade.D
    assert broken["email.mx.ip_literal"] is Grade.D
    assert broken["email.ptr.present"] is Grade.A  # the alias's addresses are good.test's mx1

    assert grades(reports["nomail.test"])["email.mx.present"] is Grade.A
    assert grades(reports["nomail.test"])["email.mx.null"] is Grade.A
    assert grades(reports["implicit.test"])["email.mx.present"] is Grade.C
    # gone.test is outside every lab zone: REFUSED is an error, so unknown, never "missing".
    assert grades(reports["gone.test"])["email.mx.present"] is Grade.UNKNOWN

    # The PTR of slow.test's MX is never answered: unknown, while the MX checks stand.
    slow = grades(reports["slow.test"])
    assert slow["email.mx.resolvable"] is Grade.A
    assert slow["email.ptr.present"] is Grade.UNKNOWN
    assert slow["email.ptr.fcrdns"] is Grade.UNKNOWN


async def test_generic_ptr_and_replay_against_the_lab() -> None:
    zones = LAB.replace("behaviour:\n  30.113.0.203.in-addr.arpa: drop\n", "")
    async with DnsLab(zones_from_yaml(zones)) as lab:
        (report,) = await scan_domains(["slow.test"], lab_network(lab.nameserver))
    found = {f.check_id: f for f in report.findings}
    assert found["email.ptr.generic"].grade is Grade.C
    assert found["email.ptr.fcrdns"].grade is Grade.C  # 30-113-0-203.dsl.isp.test does not resolve
    fix = found["email.ptr.generic"].fix
    assert fix is not None and fix.snippet == "30.113.0.203.in-addr.arpa. IN PTR mx.slow.test."
    snapshot = from_json(Snapshot, to_json(report.snapshot))
    assert evaluate_snapshot(snapshot).findings == report.findings
    observation = report.observations["mx"]
    assert from_json(MxObservation, to_json(observation)) == observation
