"""The DMARC checks end to end: lab DNS → DMARC observation → findings, and the JSON of the observation."""

from __future__ import annotations

from mimawari.lab import DnsLab, zones_from_yaml
from mimawari.model import Grade, Status
from mimawari.observations.dmarc import DmarcObservation
from mimawari.scan import DomainReport, evaluate_snapshot, scan_domains
from mimawari.serial import from_json, to_json, to_jsonable
from tests.helpers import lab_network

LAB = """
zones:
  test: {}                                   # the top-level zone: the tree walk ends here with NXDOMAIN
  neko.test:
    records:
      _dmarc:
        TXT: v=DMARC1; p=quarantine; pct=50; rua=mailto:d@reports.test,mailto:x@neko.test; ruf=dmarc@neko.test
      shop:
        A: 192.0.2.10
      _dmarc.dept:
        TXT: v=DMARC1; p=reject; psd=n; rua=mailto:dept@neko.test
  reports.test:
    records:
      "*._report._dmarc": {TXT: v=DMARC1}
  tora.test:
    records:
      _dmarc: {TXT: v=DMARC1; p=reject; np=reject; rua=mailto:d@lost.test}
  lost.test:
    records:
      mail: {A: 192.0.2.20}
  slow.test:
    records:
      _dmarc: {TXT: v=DMARC1; p=reject; rua=mailto:d@stuck.test}
  stuck.test: {}
behaviour:
  slow.test._report._dmarc.stuck.test: drop
"""


def grades(report: DomainReport) -> dict[str, Grade]:
    return {
        f.check_id.removeprefix("email.dmarc."): f.grade
        for f in report.findings
        if f.check_id.startswith("email.dmarc.")
    }


async def scan(*domains: str) -> list[DomainReport]:
    async with DnsLab(zones_from_yaml(LAB)) as lab:
        return await scan_domains(list(domains), lab_network(lab.nameserver))


async def test_dmarc_checks_against_the_lab() -> None:
    neko, shop, dept, tora, slow = await scan(
        "neko.test", "shop.neko.test", "a.dept.neko.test", "tora.test", "slow.test"
    )
    assert grades(neko) == {
        "policy": Grade.C,  # quarantine at pct=50
        "discovery": Grade.A,
        "syntax": Grade.C,  # ruf without mailto:
        "tags": Grade.B,  # pct removed by RFC 9989
        "subdomain_policy": Grade.B,  # no np=reject
        "alignment": Grade.A,
        "reporting": Grade.B,
        "report_authorization": Grade.A,  # reports.test authorises everyone with a wildcard
    }
    assert grades(shop)["policy"] is Grade.C and grades(shop)["discovery"] is Grade.A
    # dept.neko.test declares itself an organisational domain with psd=n: RFC 9989 and RFC 7489 differ on
    # the policy record for a.dept.neko.test.
    assert grades(dept)["discovery"] is Grade.C
    walk = dept.observations["dmarc"].tree_walk
    assert (walk.policy_domain, walk.org_domain, walk.psd) == (
        "dept.neko.test",
        "dept.neko.test",
        "dept.neko.test psd=n",
    )
    tora_grades = grades(tora)
    assert tora_grades["report_authorization"] is Grade.C and tora_grades["policy"] is Grade.A
    (finding,) = [f for f in tora.findings if f.check_id == "email.dmarc.report_authorization"]
    assert finding.fix is not None
    assert finding.fix.snippet == 'tora.test._report._dmarc.lost.test. IN TXT "v=DMARC1"'
    # The authorisation lookup is dropped by the lab: unknown, never "not authorised".
    assert grades(slow)["report_authorization"] is Grade.UNKNOWN
    assert slow.observations["dmarc"].reports[0].status is Status.TIMEOUT


async def test_observation_json_shows_tags_and_discovery() -> None:
    (report,) = await scan("shop.neko.test")
    data = to_jsonable(report.observations["dmarc"])
    assert data["location"] == "_dmarc.neko.test"
    assert ["p", "quarantine"] in data["record"]["tags"]
    assert data["tree_walk"]["names"] == ["shop.neko.test", "neko.test", "test"]
    assert data["tree_walk"]["org_domain"] == "neko.test"
    assert {r["host"]: r["status"] for r in data["reports"]} == {
        "reports.test": "present",
        "neko.test": "not-applicable",
    }
    observation = from_json(DmarcObservation, to_json(report.observations["dmarc"]))
    assert observation == report.observations["dmarc"]


async def test_snapshot_replays_to_the_same_dmarc_findings() -> None:
    for report in await scan("neko.test", "a.dept.neko.test", "tora.test", "slow.test"):
        assert evaluate_snapshot(report.snapshot).findings == report.findings


async def test_a_dropped_tree_walk_step_is_unknown_not_missing() -> None:
    zones = zones_from_yaml(LAB + "  _dmarc.test: drop\n")
    async with DnsLab(zones) as lab:
        (report,) = await scan_domains(
            ["shop.neko.test"], lab_network(lab.nameserver, timeout=0.3, attempts=1)
        )
    assert grades(report)["discovery"] is Grade.UNKNOWN
    assert grades(report)["policy"] is Grade.C  # RFC 7489 discovery needed no answer from _dmarc.test
