"""The rating: findings → a score per category → an overall score 0–100 with a letter (DESIGN rule 5).

Pure functions over findings, one table of constants, a ``RULES_VERSION`` stored with every score. The
rubric, written out so that anyone can recompute a score by hand, is ``docs/scoring.md``:

1. Each graded finding earns ``GRADE_POINTS`` (A 100 … E 0) with the weight of its check's severity
   (``SEVERITY_WEIGHTS``: the check's own severity, not the verdict's, so a passing check counts as
   much as a failing one). N/A findings do not count.
2. A category's score is the weighted mean of its findings' points. ``unknown`` findings earn nothing
   and are not hidden: when they hold more than ``UNKNOWN_LIMIT`` of a category's weight, the category
   has *insufficient data* (no score, no letter) instead of a score built on what little was seen.
3. Caps, as SSL Labs caps grades: a critical finding graded E caps its category at ``CAP_CRITICAL_E``
   points, one graded D at ``CAP_CRITICAL_D``; the overall score is capped the same way.
4. The overall score is the mean of the category scores weighted by ``CATEGORY_WEIGHTS`` (categories
   with insufficient data or nothing graded are left out and the weights renormalised).
5. Letters: ``LETTER_FLOORS`` (90 A, 75 B, 60 C, 40 D, below E).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from mimawari.check import Registry
from mimawari.model import Category, Finding, Grade, Severity

RULES_VERSION = "2026.11.1"
"""Changes whenever a constant or rule here changes; stored with every score."""

GRADE_POINTS: Mapping[Grade, int] = {Grade.A: 100, Grade.B: 85, Grade.C: 65, Grade.D: 40, Grade.E: 0}
SEVERITY_WEIGHTS: Mapping[Severity, int] = {
    Severity.INFO: 1,
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 3,
    Severity.CRITICAL: 5,
}
CATEGORY_WEIGHTS: Mapping[Category, int] = {
    Category.EMAIL_DNS: 40,
    Category.EMAIL_MTA: 30,
    Category.EMAIL_MAILBOX: 20,
    Category.EMAIL_OTHER: 10,
}
CAP_CRITICAL_E = 39.0
"""A critical finding graded E: its category (and the overall score) is at best a D."""
CAP_CRITICAL_D = 59.0
"""A critical finding graded D: at best a C."""
UNKNOWN_LIMIT = 0.5
LETTER_FLOORS: tuple[tuple[float, Grade], ...] = ((90, Grade.A), (75, Grade.B), (60, Grade.C), (40, Grade.D))


def letter(points: float) -> Grade:
    return next((grade for floor, grade in LETTER_FLOORS if points >= floor), Grade.E)


@dataclass(frozen=True)
class CategoryScore:
    category: Category
    score: float | None
    """0–100, one decimal; None when nothing was graded or the data is insufficient."""
    grade: Grade
    """The letter; N/A when nothing applies, UNKNOWN when the data is insufficient."""
    graded: int = 0
    unknown: int = 0
    unknown_share: float = 0.0
    """Share of the category's weight held by unknown findings."""
    cap: float | None = None
    capped_by: tuple[str, ...] = ()
    """Check ids of the critical findings that capped the score."""


@dataclass(frozen=True)
class Score:
    rules_version: str
    score: float | None
    """0–100, one decimal; None when no category could be scored."""
    grade: Grade
    categories: tuple[CategoryScore, ...]

    def category(self, category: Category) -> CategoryScore | None:
        return next((c for c in self.categories if c.category is category), None)

    @property
    def insufficient(self) -> tuple[Category, ...]:
        """Categories left out of the overall score for want of data."""
        return tuple(c.category for c in self.categories if c.grade is Grade.UNKNOWN)


def _cap(findings: Iterable[Finding]) -> tuple[float | None, tuple[str, ...]]:
    capping = [f for f in findings if f.severity is Severity.CRITICAL and f.grade in (Grade.D, Grade.E)]
    if not capping:
        return None, ()
    cap = CAP_CRITICAL_E if any(f.grade is Grade.E for f in capping) else CAP_CRITICAL_D
    return cap, tuple(sorted({f.check_id for f in capping}))


def category_score(
    category: Category, findings: Sequence[Finding], weights: Mapping[str, Severity], *, capped: bool = True
) -> CategoryScore:
    """One category's score from its findings (see the module docstring for the rules)."""

    def weight(finding: Finding) -> int:
        return SEVERITY_WEIGHTS[weights.get(finding.check_id, finding.severity)]

    graded = [f for f in findings if f.grade in GRADE_POINTS]
    unknown = [f for f in findings if f.grade is Grade.UNKNOWN]
    total = sum(map(weight, graded)) + sum(map(weight, unknown))
    if total == 0:
        return CategoryScore(category, None, Grade.NA)
    share = round(sum(map(weight, unknown)) / total, 3)
    cap, capped_by = _cap(graded)
    base = CategoryScore(category, None, Grade.UNKNOWN, len(graded), len(unknown), share, cap, capped_by)
    if share > UNKNOWN_LIMIT or not graded:
        return base
    points = sum(GRADE_POINTS[f.grade] * weight(f) for f in graded) / sum(map(weight, graded))
    if cap is not None and capped:
        points = min(points, cap)
    return replace(base, score=round(points, 1), grade=letter(points))


def score(findings: Iterable[Finding], weights: Mapping[str, Severity], *, capped: bool = True) -> Score:
    """The rating of one target's findings. ``weights``: each check's own severity, by check id
    (``check_severities(registry)``); a finding whose check is not there weighs by its own severity.
    ``capped=False`` leaves the caps out (what the findings are worth beneath them, for priorities)."""
    findings = list(findings)
    by_category = {c: [f for f in findings if f.category is c] for c in Category}
    categories = tuple(category_score(c, fs, weights, capped=capped) for c, fs in by_category.items() if fs)
    scored = [c for c in categories if c.score is not None]
    if not scored:
        grade = Grade.UNKNOWN if any(c.grade is Grade.UNKNOWN for c in categories) else Grade.NA
        return Score(RULES_VERSION, None, grade, categories)
    total = sum(CATEGORY_WEIGHTS[c.category] for c in scored)
    points = sum((c.score or 0.0) * CATEGORY_WEIGHTS[c.category] for c in scored) / total
    caps = [c.cap for c in scored if c.cap is not None]
    if caps and capped:
        points = min(points, *caps)
    return Score(RULES_VERSION, round(points, 1), letter(points), categories)


def check_severities(checks: Registry) -> dict[str, Severity]:
    """Each check's own severity by id, from a registry (``mimawari.checks.ALL_CHECKS``)."""
    return {key: check.severity for key, check in checks.items()}


# --- what to fix first -----------------------------------------------------------------------------------

URGENCY: Mapping[Severity, float] = {
    Severity.INFO: 0.5,
    Severity.LOW: 1.0,
    Severity.MEDIUM: 1.5,
    Severity.HIGH: 2.5,
    Severity.CRITICAL: 4.0,
}
"""How much harm and how exploitable, by the finding's severity (critical: exploitable from the
internet as it stands, such as an open relay)."""
EASE_WITH_SNIPPET = 1.25
"""A fix that comes with the exact record or setting to copy is quicker to apply."""


@dataclass(frozen=True)
class Priority:
    finding: Finding
    gain: float
    """Overall points the fix would add (the finding at its after-fix grade, everything else as is):
    the larger of the gain with the caps and without them, so that a fix beneath a cap still counts."""
    value: float
    """``(gain + 1) × URGENCY × ease``; the list is sorted by it, highest first."""


def fixed(findings: Sequence[Finding], finding: Finding) -> list[Finding]:
    """The findings with ``finding`` at its after-fix grade (A when the check gives none)."""
    after = finding.after_fix.grade if finding.after_fix is not None else Grade.A
    return [replace(f, grade=after, severity=Severity.INFO) if f is finding else f for f in findings]


def gain(findings: Sequence[Finding], finding: Finding, weights: Mapping[str, Severity]) -> float:
    """Overall points fixing ``finding`` adds (see ``Priority.gain``)."""
    after = fixed(findings, finding)
    gains = [
        (score(after, weights, capped=capped).score or 0.0)
        - (score(findings, weights, capped=capped).score or 0.0)
        for capped in (True, False)
    ]
    return max(0.0, round(max(gains), 1))


def prioritise(findings: Iterable[Finding], weights: Mapping[str, Severity]) -> list[Priority]:
    """The findings that need action (B–E), best next step first: what the fix is worth to the score,
    weighed by urgency and ease. Ties: worse grade first, then check id."""
    findings = list(findings)
    ranked = []
    for finding in findings:
        if finding.grade not in GRADE_POINTS or finding.grade is Grade.A:
            continue
        points = gain(findings, finding, weights)
        ease = EASE_WITH_SNIPPET if finding.fix is not None and finding.fix.snippet else 1.0
        ranked.append(Priority(finding, points, round((points + 1) * URGENCY[finding.severity] * ease, 2)))
    return sorted(ranked, key=lambda p: (-p.value, -(p.finding.grade.rank or 0), p.finding.check_id))


def organisation_score(domain_scores: Iterable[float | None]) -> float | None:
    """An organisation's score: the mean of its domains' scores (those that have one), one decimal.

    The mean, not the worst: a parked domain should not sink a whole company, and the portfolio shows
    the worst domain beside it. None when no domain has a score.
    """
    scores = [s for s in domain_scores if s is not None]
    return round(sum(scores) / len(scores), 1) if scores else None
