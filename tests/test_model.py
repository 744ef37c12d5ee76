from __future__ import annotations

import pytest

import mimawari
from mimawari.lookup import DnsAnswer, Query, Snapshot
from mimawari.model import (
    AfterFix,
    Category,
    Evidence,
    Finding,
    Fix,
    Grade,
    Reference,
    Severity,
    Status,
    Target,
    Text,
)
from mimawari.observations.dmarc import DmarcObservation
from mimawari.serial import from_json, from_jsonable, to_json, to_jsonable

FINDING = Finding(
    check_id="email.dmarc.policy",
    target="example.test",
    category=Category.EMAIL_DNS,
    grade=Grade.C,
    severity=Severity.MEDIUM,
    title=Text("DMARC policy", "DMARC ポリシー"),
    summary=Text("p=none", "p=none です"),
    evidence=(Evidence("_dmarc.example.test TXT", '"v=DMARC1; p=none"'),),
    fix=Fix(Text("raise it", "引き上げ"), '_dmarc.example.test. IN TXT "v=DMARC1; p=quarantine"'),
    after_fix=AfterFix(Grade.B, Text("spam folder", "迷惑メール")),
    references=(Reference("RFC 7489", "https://www.rfc-editor.org/rfc/rfc7489"),),
)


def test_finding_round_trips_through_json() -> None:
    assert from_json(Finding, to_json(FINDING)) == FINDING
    assert to_jsonable(FINDING)["grade"] == "C"
    assert to_jsonable(FINDING)["title"]["ja"] == "DMARC ポリシー"


def test_observation_and_snapshot_round_trip() -> None:
    answer = DnsAnswer(Query.of("_dmarc.Example.test.", "txt"), Status.TIMEOUT, detail="no answer")
    observation = DmarcObservation("example.test", "example.test", Status.TIMEOUT, lookups=(answer,))
    assert from_json(DmarcObservation, to_json(observation)) == observation
    snapshot = Snapshot(Target("example.test"), (answer,))
    restored = from_jsonable(Snapshot, to_jsonable(snapshot))
    assert restored == snapshot
    assert restored.answer(Query("_dmarc.example.test", "TXT")) == answer


def test_loading_rejects_data_that_does_not_fit() -> None:
    data = to_jsonable(FINDING) | {"grade": "F"}
    with pytest.raises(ValueError, match="grade"):
        from_jsonable(Finding, data)


def test_grade_scale() -> None:
    assert [g.rank for g in Grade] == [0, 1, 2, 3, 4, None, None]
    assert Grade.B.lowered() is Grade.C
    assert Grade.E.lowered() is Grade.E
    assert Grade.UNKNOWN.lowered() is Grade.UNKNOWN
    assert Grade.A.passing and Grade.NA.passing and not Grade.UNKNOWN.passing


def test_severity_order() -> None:
    assert sorted(Severity, key=lambda s: s.rank)[-1] is Severity.CRITICAL


def test_status_answered() -> None:
    assert {s for s in Status if s.answered} == {Status.PRESENT, Status.ABSENT}


def test_text_format_applies_to_every_language() -> None:
    assert Text("{n} records", "{n} 件").format(n=2) == Text("2 records", "2 件")


def test_public_api_is_curated_and_sorted() -> None:
    names = mimawari.__all__
    assert names == sorted(names)
    assert all(hasattr(mimawari, name) for name in names)
