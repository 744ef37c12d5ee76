"""What the store hands out (frozen dataclasses, never ORM rows) and the conversion of a ``DomainReport``
to rows and back.

A report is stored as it was: the findings' full JSON, the score with its category scores and the
priorities. Loading it back gives those stored values, not a re-evaluation with today's checks, so a
history, a diff or an alert about last month's scan says what was found last month (``rules_version``
says under which rules). The snapshot is kept too: ``evaluate_snapshot(report.snapshot)`` re-rates an old
scan under the current rules when that is what is wanted.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from mimawari.lookup import Snapshot
from mimawari.model import Category, Finding, Grade
from mimawari.scan import DomainReport, evaluate_snapshot
from mimawari.score import CategoryScore, Priority, Score
from mimawari.serial import from_json, from_jsonable, to_json, to_jsonable
from mimawari.store.models import CategoryScoreRow, FindingRow, OrganisationRow, ScanRow, ScanTargetRow


class Relation(StrEnum):
    """Who an organisation is to the user: the portfolio groups and filters by it."""

    SELF = "self"
    GROUP = "group"
    """A group company (subsidiary, sister company)."""
    SUPPLIER = "supplier"
    OTHER = "other"


class Criticality(StrEnum):
    """How much the user depends on the organisation; alerting and the portfolio weigh by it."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class ScanStatus(StrEnum):
    RUNNING = "running"
    """Begun and not finished, or its process died: never shown as a result."""
    COMPLETE = "complete"
    FAILED = "failed"


@dataclass(frozen=True)
class Organisation:
    name: str
    relation: Relation = Relation.OTHER
    criticality: Criticality = Criticality.MEDIUM
    domains: tuple[str, ...] = ()
    netblocks: tuple[str, ...] = ()
    """Networks in CIDR notation (``192.0.2.0/24``)."""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class TargetSummary:
    """One domain of a scan as history needs it: the overall score and the category scores."""

    domain: str
    score: float | None
    grade: Grade | None
    """None when the report carried no score."""
    categories: tuple[CategoryScore, ...] = ()


@dataclass(frozen=True)
class ScanRecord:
    id: int
    organisation: str | None
    """None for a scan of domains that belongs to no organisation."""
    status: ScanStatus
    started_at: datetime
    finished_at: datetime | None
    rules_version: str
    error: str
    targets: tuple[TargetSummary, ...]


# --- rows → records ---------------------------------------------------------------------------------------


def organisation_of(row: OrganisationRow) -> Organisation:
    return Organisation(
        name=row.name,
        relation=Relation(row.relation),
        criticality=Criticality(row.criticality),
        domains=tuple(d.domain for d in row.domains),
        netblocks=tuple(n.netblock for n in row.netblocks),
        tags=tuple(t.tag for t in row.tags),
    )


def category_score_of(row: CategoryScoreRow) -> CategoryScore:
    return CategoryScore(
        category=Category(row.category),
        score=row.score,
        grade=Grade(row.grade),
        graded=row.graded,
        unknown=row.unknown,
        unknown_share=row.unknown_share,
        cap=row.cap,
        capped_by=tuple(row.capped_by),
    )


def summary_of(row: ScanTargetRow) -> TargetSummary:
    grade = Grade(row.grade) if row.grade is not None else None
    return TargetSummary(row.domain, row.score, grade, tuple(map(category_score_of, row.categories)))


def scan_record_of(row: ScanRow) -> ScanRecord:
    return ScanRecord(
        id=row.id,
        organisation=row.organisation.name if row.organisation is not None else None,
        status=ScanStatus(row.status),
        started_at=row.started_at,
        finished_at=row.finished_at,
        rules_version=row.rules_version,
        error=row.error,
        targets=tuple(map(summary_of, row.targets)),
    )


def snapshot_of(row: ScanTargetRow) -> Snapshot:
    return from_json(Snapshot, zlib.decompress(row.snapshot))


def report_of(row: ScanTargetRow, rules_version: str) -> DomainReport:
    """The stored report. Observations are not stored (they are derived data, and large): they are
    replayed from the snapshot, which needs no network."""
    snapshot = snapshot_of(row)
    findings = tuple(from_jsonable(Finding, f.finding) for f in row.findings)
    rating = None
    if row.grade is not None:
        categories = tuple(map(category_score_of, row.categories))
        rating = Score(rules_version, row.score, Grade(row.grade), categories)
    priorities = tuple(
        Priority(findings[int(p["finding"])], float(p["gain"]), float(p["value"])) for p in row.priorities
    )
    observations = evaluate_snapshot(snapshot).observations
    return DomainReport(row.domain, snapshot, findings, observations, rating, priorities)


# --- records → rows ---------------------------------------------------------------------------------------


def _position(findings: tuple[Finding, ...], finding: Finding) -> int:
    # By identity first: ``prioritise`` hands back the report's own finding objects.
    for position, candidate in enumerate(findings):
        if candidate is finding:
            return position
    return findings.index(finding)


def target_row(report: DomainReport) -> ScanTargetRow:
    priorities: list[dict[str, Any]] = [
        {"finding": _position(report.findings, p.finding), "gain": p.gain, "value": p.value}
        for p in report.priorities
    ]
    rating = report.score
    row = ScanTargetRow(
        domain=report.domain,
        snapshot=zlib.compress(to_json(report.snapshot).encode()),
        score=rating.score if rating is not None else None,
        grade=rating.grade.value if rating is not None else None,
        priorities=priorities,
    )
    row.findings = [
        FindingRow(
            position=position,
            check_id=finding.check_id,
            category=finding.category.value,
            grade=finding.grade.value,
            severity=finding.severity.value,
            finding=to_jsonable(finding),
        )
        for position, finding in enumerate(report.findings)
    ]
    row.categories = [
        CategoryScoreRow(
            category=c.category.value,
            score=c.score,
            grade=c.grade.value,
            graded=c.graded,
            unknown=c.unknown,
            unknown_share=c.unknown_share,
            cap=c.cap,
            capped_by=list(c.capped_by),
        )
        for c in (rating.categories if rating is not None else ())
    ]
    return row
