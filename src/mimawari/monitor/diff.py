"""What changed between two scans of an organisation (pure: no I/O): ``mimawari diff`` and the alert rules.

Per domain: the score and letters, the findings that need action (graded B–E, as ``score.prioritise``
counts them), the assets seen from outside, the certificates on each endpoint and the DMARC stance.
A change is only reported when both scans decided it (DESIGN rule 3): a check graded *unknown* on either
side is ``undetermined``, never new nor resolved; an asset the later scan could not see for a timeout is
``unconfirmed``, never removed; and one the earlier scan could not rule out is not called added.
Everything is ordered (domain, category, check id, asset), so the same scans always give the same diff;
every type is a frozen dataclass that ``mimawari.serial.to_jsonable`` turns into JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mimawari.model import Category, Finding, Grade, Text
from mimawari.monitor.assets import (
    Asset,
    CertificateSeen,
    DmarcStance,
    certificates_of,
    dmarc_stance,
    exposure_of,
    vanished,
    weakened,
)
from mimawari.scan import DomainReport
from mimawari.score import Score

NEEDS_ACTION = frozenset({Grade.B, Grade.C, Grade.D, Grade.E})
"""Grades that make a check a finding to act on, as in ``score.prioritise``."""


@dataclass(frozen=True)
class ScoreChange:
    """The overall rating before and after; None where a scan had no rating."""

    score_before: float | None
    score_after: float | None
    grade_before: Grade | None
    grade_after: Grade | None
    rules_before: str | None = None
    rules_after: str | None = None
    """The scoring rules' versions: a change of rules can move a score by itself."""

    @property
    def changed(self) -> bool:
        return (self.score_before, self.grade_before) != (self.score_after, self.grade_after)

    @property
    def grade_dropped(self) -> bool:
        """True when the letter got worse (A … E; N/A and unknown are not on the scale)."""
        before, after = (g.rank if g is not None else None for g in (self.grade_before, self.grade_after))
        return before is not None and after is not None and after > before


@dataclass(frozen=True)
class CategoryChange:
    category: Category
    grade_before: Grade | None
    """None when the category was not rated in that scan (none of its checks ran)."""
    grade_after: Grade | None
    score_before: float | None
    score_after: float | None


@dataclass(frozen=True)
class FindingChange:
    """One check's finding before and after (None when the check did not run in that scan)."""

    check_id: str
    before: Finding | None
    after: Finding | None

    @property
    def grade_before(self) -> Grade | None:
        return self.before.grade if self.before is not None else None

    @property
    def grade_after(self) -> Grade | None:
        return self.after.grade if self.after is not None else None

    @property
    def current(self) -> Finding:
        """The latest finding there is: what to show (title, severity, fix)."""
        latest = self.after or self.before
        assert latest is not None, "a change has a finding on at least one side"
        return latest


@dataclass(frozen=True)
class CertificateChange:
    """Another leaf certificate on an endpoint that answered with one in both scans."""

    endpoint: str
    before: CertificateSeen
    after: CertificateSeen


@dataclass(frozen=True)
class DomainDiff:
    domain: str
    score: ScoreChange
    categories: tuple[CategoryChange, ...] = ()
    new: tuple[FindingChange, ...] = ()
    """Passing (A or N/A) or not checked before, B–E now."""
    resolved: tuple[FindingChange, ...] = ()
    """B–E before, A or N/A now."""
    worse: tuple[FindingChange, ...] = ()
    better: tuple[FindingChange, ...] = ()
    undetermined: tuple[FindingChange, ...] = ()
    """Unknown on one side only (or no longer checked): neither a fix nor a regression."""
    added: tuple[Asset, ...] = ()
    removed: tuple[Asset, ...] = ()
    """Assets the later scan settled as gone (the MX no longer names the host, the port refused …)."""
    unconfirmed: tuple[Asset, ...] = ()
    """Assets seen before that the later scan could not decide about (a probe timed out)."""
    certificates: tuple[CertificateChange, ...] = ()
    dmarc_before: DmarcStance | None = None
    """None when the DMARC lookup failed in that scan (or it did not look)."""
    dmarc_after: DmarcStance | None = None
    dmarc_weakened: tuple[Text, ...] = ()

    @property
    def empty(self) -> bool:
        """True when nothing changed. ``undetermined`` and ``unconfirmed`` are not changes: they say what
        the later scan could not tell."""
        changes = (
            self.categories,
            self.new,
            self.resolved,
            self.worse,
            self.better,
            self.added,
            self.removed,
        )
        return (
            not self.score.changed and not any(changes) and not self.certificates and not self.dmarc_weakened
        )


@dataclass(frozen=True)
class ScanDiff:
    domains: tuple[DomainDiff, ...] = ()
    """Every domain in both scans, by name, changed or not."""
    added_domains: tuple[str, ...] = ()
    removed_domains: tuple[str, ...] = ()

    @property
    def changed(self) -> tuple[DomainDiff, ...]:
        return tuple(d for d in self.domains if not d.empty)

    @property
    def empty(self) -> bool:
        return not self.added_domains and not self.removed_domains and not self.changed


def _score_change(before: Score | None, after: Score | None) -> ScoreChange:
    return ScoreChange(
        before.score if before else None,
        after.score if after else None,
        before.grade if before else None,
        after.grade if after else None,
        before.rules_version if before else None,
        after.rules_version if after else None,
    )


def _category_changes(before: Score | None, after: Score | None) -> tuple[CategoryChange, ...]:
    changes = []
    for category in Category:
        old = before.category(category) if before else None
        new = after.category(category) if after else None
        pair = (
            (old.grade, old.score) if old else (None, None),
            (new.grade, new.score) if new else (None, None),
        )
        if pair[0] != pair[1]:
            changes.append(CategoryChange(category, pair[0][0], pair[1][0], pair[0][1], pair[1][1]))
    return tuple(changes)


def classify(before: Finding | None, after: Finding | None) -> str | None:
    """``new``, ``resolved``, ``worse``, ``better``, ``undetermined`` or None (no change to report).

    A check missing before counts as passing (it was not raised); missing after counts as unknown (the
    later scan cannot say it is fixed)."""
    old = before.grade if before is not None else Grade.NA
    new = after.grade if after is not None else Grade.UNKNOWN
    if (old is Grade.UNKNOWN) != (new is Grade.UNKNOWN):
        return "undetermined"
    if old is Grade.UNKNOWN:
        return None
    if new in NEEDS_ACTION and old not in NEEDS_ACTION:
        return "new"
    if old in NEEDS_ACTION and new not in NEEDS_ACTION:
        return "resolved"
    if old in NEEDS_ACTION and old is not new:
        return "worse" if (new.rank or 0) > (old.rank or 0) else "better"
    return None


def _finding_changes(before: DomainReport, after: DomainReport) -> dict[str, tuple[FindingChange, ...]]:
    old = {f.check_id: f for f in before.findings}
    new = {f.check_id: f for f in after.findings}
    grouped: dict[str, list[FindingChange]] = {}
    for check_id in sorted(old.keys() | new.keys()):
        kind = classify(old.get(check_id), new.get(check_id))
        if kind is not None:
            grouped.setdefault(kind, []).append(FindingChange(check_id, old.get(check_id), new.get(check_id)))
    return {kind: tuple(changes) for kind, changes in grouped.items()}


def _certificate_changes(before: DomainReport, after: DomainReport) -> tuple[CertificateChange, ...]:
    old = {c.endpoint: c for c in certificates_of(before)}
    new = {c.endpoint: c for c in certificates_of(after)}
    return tuple(
        CertificateChange(endpoint, old[endpoint], new[endpoint])
        for endpoint in sorted(old.keys() & new.keys())
        if old[endpoint].fingerprint != new[endpoint].fingerprint
    )


def diff_domain(before: DomainReport, after: DomainReport) -> DomainDiff:
    """What changed on one domain between two of its reports."""
    findings = _finding_changes(before, after)
    seen_before, seen_after = exposure_of(before), exposure_of(after)
    removed, unconfirmed = vanished(seen_before, seen_after)
    added, _could_not_rule_out = vanished(seen_after, seen_before)
    # A certificate replaced on an endpoint is one change (``certificates``), not an addition and a removal.
    replaced = _certificate_changes(before, after)
    swapped = {c.before.asset for c in replaced} | {c.after.asset for c in replaced}
    added, removed = (tuple(a for a in assets if a not in swapped) for assets in (added, removed))
    stance_before, stance_after = dmarc_stance(before), dmarc_stance(after)
    dmarc_weakened = (
        () if stance_before is None or stance_after is None else weakened(stance_before, stance_after)
    )
    return DomainDiff(
        domain=after.domain,
        score=_score_change(before.score, after.score),
        categories=_category_changes(before.score, after.score),
        new=findings.get("new", ()),
        resolved=findings.get("resolved", ()),
        worse=findings.get("worse", ()),
        better=findings.get("better", ()),
        undetermined=findings.get("undetermined", ()),
        added=added,
        removed=removed,
        unconfirmed=unconfirmed,
        certificates=replaced,
        dmarc_before=stance_before,
        dmarc_after=stance_after,
        dmarc_weakened=dmarc_weakened,
    )


def diff_reports(before: Mapping[str, DomainReport], after: Mapping[str, DomainReport]) -> ScanDiff:
    """Compare two scans of an organisation, each given as its reports by domain name."""
    return ScanDiff(
        domains=tuple(diff_domain(before[d], after[d]) for d in sorted(before.keys() & after.keys())),
        added_domains=tuple(sorted(after.keys() - before.keys())),
        removed_domains=tuple(sorted(before.keys() - after.keys())),
    )
