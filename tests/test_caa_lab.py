"""CAA checks end to end against the lab: the climb to the closest RRset, a critical tag, a timeout."""

from __future__ import annotations

from mimawari.lab import DnsLab, zones_from_yaml
from mimawari.model import Grade
from mimawari.scan import scan_domains
from tests.helpers import lab_network

LAB = """
zones:
  good.test:
    records:
      "@":
        CAA: ['0 issue "letsencrypt.org"', '0 iodef "mailto:security@good.test"']
      www: {A: 203.0.113.80}
      shop:
        CAA: ['0 issue "letsencrypt.org"', '128 tbs "unknown"']
  none.test:
    records:
      www: {A: 203.0.113.81}
  slow.test:
    records:
      "@": {CAA: '0 issue "letsencrypt.org"'}
      www: {A: 203.0.113.82}
behaviour:
  www.slow.test: drop
"""


async def test_caa_against_the_lab() -> None:
    domains = ["www.good.test", "shop.good.test", "www.none.test", "www.slow.test"]
    async with DnsLab(zones_from_yaml(LAB)) as lab:
        reports = await scan_domains(domains, lab_network(lab.nameserver))
    by_domain = {
        r.domain: {f.check_id: f for f in r.findings if f.check_id.startswith("dns.caa.")} for r in reports
    }
    www = by_domain["www.good.test"]
    assert {k: f.grade for k, f in www.items()} == {
        "dns.caa.present": Grade.A,
        "dns.caa.syntax": Grade.A,
        "dns.caa.iodef": Grade.A,
    }
    assert reports[0].observations["caa"].location == "good.test"
    assert by_domain["shop.good.test"]["dns.caa.syntax"].grade is Grade.D
    assert by_domain["shop.good.test"]["dns.caa.iodef"].grade is Grade.B
    absent = by_domain["www.none.test"]["dns.caa.present"]
    assert absent.grade is Grade.C
    assert absent.fix is not None and absent.fix.snippet is not None
    assert absent.fix.snippet.startswith('none.test. IN CAA 0 issue "letsencrypt.org"')
    assert absent.after_fix is not None and absent.after_fix.grade is Grade.A
    assert by_domain["www.slow.test"]["dns.caa.present"].grade is Grade.UNKNOWN
