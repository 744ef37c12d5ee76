"""MTA-STS end to end: lab DNS and lab HTTPS → observation → findings, and replay of the snapshot."""

from __future__ import annotations

from mimawari.checks import ALL_CHECKS
from mimawari.lab.world import Lab
from mimawari.lookup import Snapshot
from mimawari.model import Grade
from mimawari.scan import evaluate_snapshot, scan_domains
from mimawari.serial import from_json, to_json

CHECKS = {k: v for k, v in ALL_CHECKS.items() if k.startswith("email.mta_sts.")}
POLICY = "version: STSv1\nmode: {mode}\nmx: mx1.{domain}\nmax_age: 604800\n"


def site(domain: str, mode: str = "enforce", cert: str = "valid") -> str:
    body = POLICY.format(mode=mode, domain=domain).replace("\n", "\\n")
    return f"""
    mta-sts.{domain}:
      cert: {cert}
      paths:
        /.well-known/mta-sts.txt: {{body: "{body}"}}"""


def zone(domain: str, *, mx2: bool = False) -> str:
    extra = f", 20 mx2.{domain}." if mx2 else ""
    return f"""
  {domain}:
    records:
      "@": {{MX: [10 mx1.{domain}.{extra}]}}
      mx1: {{A: 192.0.2.25}}
      _mta-sts: {{TXT: "v=STSv1; id=20260501"}}
      mta-sts: {{A: 203.0.113.44, AAAA: "2001:db8::44"}}"""


DOMAINS = ["good.test", "testing.test", "expired.test", "moved.test", "html.test", "slowhost.test"]
LAB_YAML = (
    "zones:"
    + "".join(zone(d, mx2=d == "testing.test") for d in DOMAINS)
    + """
  plain.test:
    records:
      "@": {MX: 10 mx.plain.test.}
  slow.test:
    records:
      "@": {MX: 10 mx.slow.test.}
      _mta-sts: {TXT: "v=STSv1; id=1"}
behaviour:
  _mta-sts.slow.test: drop
  mta-sts.slowhost.test: drop
https:
  sites:"""
    + site("good.test")
    + site("testing.test", mode="testing")
    + site("expired.test", cert="expired")
    + """
    mta-sts.moved.test:
      paths:
        /.well-known/mta-sts.txt: {redirect: "https://www.moved.test/mta-sts.txt"}
    mta-sts.html.test:
      paths:
        /.well-known/mta-sts.txt: {content_type: text/html, body: "<html></html>"}
"""
)

EXPECTED = {
    "good.test": (Grade.A, Grade.A, Grade.A, Grade.A),
    "testing.test": (Grade.A, Grade.A, Grade.B, Grade.C),
    "expired.test": (Grade.A, Grade.D, Grade.NA, Grade.NA),
    "moved.test": (Grade.A, Grade.D, Grade.NA, Grade.NA),
    "html.test": (Grade.A, Grade.D, Grade.NA, Grade.NA),
    "slowhost.test": (Grade.A, Grade.UNKNOWN, Grade.UNKNOWN, Grade.UNKNOWN),
    "plain.test": (Grade.C, Grade.NA, Grade.NA, Grade.NA),
    "slow.test": (Grade.UNKNOWN,) * 4,
}


async def test_mta_sts_end_to_end_and_replay() -> None:
    async with Lab.from_yaml(LAB_YAML) as lab:
        reports = await scan_domains(list(EXPECTED), lab.network(), CHECKS)
    assert {r.domain: tuple(f.grade for f in r.findings) for r in reports} == EXPECTED
    by_domain = {r.domain: r for r in reports}
    expired = by_domain["expired.test"].findings[1]
    assert "certificate verify failed: certificate has expired" in expired.summary.en
    moved = by_domain["moved.test"].findings[1]
    assert "redirect to https://www.moved.test/mta-sts.txt" in moved.summary.en
    good = by_domain["good.test"]
    fetches = [r.request for r in good.snapshot.http]
    assert [str(r) for r in fetches] == [
        "GET https://mta-sts.good.test/.well-known/mta-sts.txt @ 203.0.113.44"
    ]
    for report in reports:
        snapshot = from_json(Snapshot, to_json(report.snapshot))
        assert evaluate_snapshot(snapshot, CHECKS).findings == report.findings
    observation = good.observations["mta_sts"]
    assert observation.policy.mode == "enforce"
