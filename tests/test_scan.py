"""The DMARC check end to end: lab DNS → observation → finding, and replay of the recorded snapshot."""

from __future__ import annotations

import time

import pytest

from mimawari.errors import InvalidDomainError, NameserverUnreachableError
from mimawari.lab import DnsLab, demo_lab, demo_targets, zones_from_yaml
from mimawari.lookup import DnsAnswer, Query, Snapshot
from mimawari.model import Grade, Status, Target
from mimawari.observe import Nameserver
from mimawari.scan import DomainReport, evaluate_snapshot, scan, scan_domains
from mimawari.serial import from_json, to_json
from tests.helpers import lab_network


def policy_grade(report: DomainReport) -> Grade:
    return next(f.grade for f in report.findings if f.check_id == "email.dmarc.policy")


EXPECTED = {
    "kuroneko.example": Grade.C,
    "news.kuroneko.example": Grade.C,
    "kuroneko-shop.example": Grade.E,
    "kuroneko-logistics.example": Grade.C,
    "kuroneko-group.example": Grade.A,
    "kuroneko-legacy.example": Grade.UNKNOWN,
}


async def test_demo_organisation_end_to_end() -> None:
    async with demo_lab() as lab:
        reports = await scan_domains(demo_targets(), lab.network())
    assert {r.domain: policy_grade(r) for r in reports} == EXPECTED
    legacy = next(r for r in reports if r.domain == "kuroneko-legacy.example")
    assert legacy.observations["dmarc"].status is Status.TIMEOUT


async def test_recorded_snapshot_replays_to_the_same_findings() -> None:
    async with demo_lab() as lab:
        reports = await scan_domains(demo_targets(), lab.network())
    for report in reports:
        snapshot = from_json(Snapshot, to_json(report.snapshot))
        assert evaluate_snapshot(snapshot).findings == report.findings


async def test_patched_snapshot_changes_the_grade() -> None:
    async with demo_lab() as lab:
        (report,) = await scan_domains(["kuroneko.example"], lab.network())
    query = Query.of("_dmarc.kuroneko.example", "TXT")
    assert report.snapshot.answer(query) is not None
    patched = report.snapshot.patched(DnsAnswer(query, Status.PRESENT, "NOERROR", ('"v=DMARC1; p=reject"',)))
    assert policy_grade(evaluate_snapshot(patched)) is Grade.A


async def test_domains_are_validated_and_deduplicated(lab: DnsLab) -> None:
    network = lab_network(lab.nameserver)
    reports = await scan_domains(["Example.TEST.", "example.test"], network)
    assert [r.domain for r in reports] == ["example.test"]
    assert policy_grade(reports[0]) is Grade.A
    with pytest.raises(InvalidDomainError):
        await scan_domains(["bad..name"], network)


def test_sync_scan_is_asyncio_run_over_the_async_api() -> None:
    with pytest.raises(NameserverUnreachableError):
        scan(["example.test"], [Nameserver("127.0.0.1", 9)], timeout=0.1, attempts=1)


async def test_cname_to_dmarc_record_is_followed() -> None:
    zones = zones_from_yaml(
        """
zones:
  alias.test:
    records:
      _dmarc: {CNAME: _dmarc.central.test.}
  central.test:
    records:
      _dmarc: {TXT: "v=DMARC1; p=quarantine"}
"""
    )
    async with DnsLab(zones) as lab:
        (report,) = await scan_domains(["alias.test"], lab_network(lab.nameserver))
    assert policy_grade(report) is Grade.B
    answer = report.snapshot.answer(Query.of("_dmarc.alias.test", "TXT"))
    assert answer is not None
    assert answer.cname_chain == ("_dmarc.central.test",)


async def test_replay_judges_dates_at_the_time_of_the_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    async with demo_lab() as lab:
        anchors = lab.connection().trust_anchors
        (report,) = await scan_domains(
            [Target("kuroneko-group.example", trust_anchors=anchors)], lab.network()
        )
    grades = {f.check_id: f.grade for f in report.findings}
    assert grades["dns.dnssec.status"] is Grade.A
    assert report.snapshot.target.observed_at > 0
    later = time.time() + 2 * 365 * 86400  # every lab signature has expired by then
    monkeypatch.setattr(time, "time", lambda: later)
    replayed = evaluate_snapshot(from_json(Snapshot, to_json(report.snapshot)))
    assert {f.check_id: f.grade for f in replayed.findings} == grades
