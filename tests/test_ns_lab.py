"""NS checks end to end against the lab, including the climb from a subdomain and a dropped lookup."""

from __future__ import annotations

from mimawari.lab import DnsLab, zones_from_yaml
from mimawari.model import Grade
from mimawari.observations.ns import NsObservation
from mimawari.scan import scan_domains
from tests.helpers import lab_network

LAB = """
zones:
  good.test:
    records:
      "@": {NS: [ns1.good.test., ns2.dns-host.test.]}
      ns1: {A: 203.0.113.53}
      www: {A: 203.0.113.80}
  dns-host.test:
    records:
      ns2: {A: 198.51.100.53}
      alias: {CNAME: ns2.dns-host.test.}
  lonely.test:
    records:
      "@": {NS: [ns1.lonely.test., ns2.lonely.test., alias.dns-host.test.]}
      ns1: {A: 192.0.2.53}
      ns2: {A: 192.0.2.54}
  slow.test:
    records:
      "@": {NS: [ns1.slow.test., ns2.dns-host.test.]}
      ns1: {A: 203.0.113.54}
behaviour:
  ns1.slow.test: drop
"""


async def test_name_servers_against_the_lab() -> None:
    async with DnsLab(zones_from_yaml(LAB)) as lab:
        reports = await scan_domains(
            ["www.good.test", "lonely.test", "slow.test"], lab_network(lab.nameserver)
        )
    by_domain = {
        r.domain: {f.check_id: f.grade for f in r.findings if f.check_id.startswith("dns.ns.")}
        for r in reports
    }
    assert by_domain["www.good.test"] == {
        "dns.ns.count": Grade.A,
        "dns.ns.resolvable": Grade.A,
        "dns.ns.diversity": Grade.A,
        "dns.ns.cname": Grade.A,
    }
    observation: NsObservation = reports[0].observations["ns"]
    assert observation.zone == "good.test"
    assert [h.name for h in observation.hosts] == ["ns1.good.test", "ns2.dns-host.test"]
    assert by_domain["lonely.test"]["dns.ns.cname"] is Grade.C
    # 192.0.2.53, .54 and alias → 198.51.100.53: two /24s, so spread.
    assert by_domain["lonely.test"]["dns.ns.diversity"] is Grade.A
    assert by_domain["slow.test"]["dns.ns.count"] is Grade.A
    assert by_domain["slow.test"]["dns.ns.resolvable"] is Grade.UNKNOWN
    assert by_domain["slow.test"]["dns.ns.diversity"] is Grade.UNKNOWN
