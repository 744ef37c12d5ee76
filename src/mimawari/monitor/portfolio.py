"""The portfolio: every organisation the user watches, ranked by score, with the categories that pull it
down and how it moved since the scan before."""

from __future__ import annotations

from dataclasses import dataclass

from mimawari.model import Category, Grade
from mimawari.score import letter, organisation_score
from mimawari.store import Organisation, Relation, ScanRecord, Store


@dataclass(frozen=True)
class PortfolioEntry:
    organisation: Organisation
    latest: ScanRecord | None
    score: float | None
    """``score.organisation_score`` of the latest complete scan; None when never scanned or not scored."""
    grade: Grade | None
    worst_domain: tuple[str, float] | None
    worst_categories: tuple[tuple[Category, Grade], ...]
    """Categories graded C or worse on any domain, worst first (at most two)."""
    change: float | None
    """Points gained (+) or lost (−) since the complete scan before the latest; None without one."""
    previous: ScanRecord | None


def _score(scan: ScanRecord | None) -> float | None:
    return organisation_score(t.score for t in scan.targets) if scan is not None else None


def _worst_categories(scan: ScanRecord) -> tuple[tuple[Category, Grade], ...]:
    worst: dict[Category, Grade] = {}
    for target in scan.targets:
        for category in target.categories:
            rank = category.grade.rank
            held = worst.get(category.category)
            if rank is not None and rank >= 2 and (held is None or rank > (held.rank or 0)):
                worst[category.category] = category.grade
    ranked = sorted(worst.items(), key=lambda item: (-(item[1].rank or 0), item[0].value))
    return tuple(ranked[:2])


def entry(store: Store, organisation: Organisation) -> PortfolioEntry:
    scans = store.scans(organisation.name, last=2)
    latest = scans[-1] if scans else None
    previous = scans[-2] if len(scans) > 1 else None
    score = _score(latest)
    before = _score(previous)
    scored = [(t.domain, t.score) for t in latest.targets if t.score is not None] if latest else []
    return PortfolioEntry(
        organisation=organisation,
        latest=latest,
        score=score,
        grade=letter(score) if score is not None else None,
        worst_domain=min(scored, key=lambda pair: (pair[1], pair[0])) if scored else None,
        worst_categories=_worst_categories(latest) if latest is not None else (),
        change=round(score - before, 1) if score is not None and before is not None else None,
        previous=previous,
    )


def portfolio(
    store: Store, relation: Relation | str | None = None, tag: str | None = None
) -> list[PortfolioEntry]:
    """The organisations (of ``relation``, carrying ``tag``), lowest score first; never scanned last."""
    entries = [entry(store, o) for o in store.list_organisations(relation, tag)]
    return sorted(
        entries, key=lambda e: (e.score is None, e.score if e.score is not None else 0.0, e.organisation.name)
    )
