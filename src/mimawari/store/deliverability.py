"""The deliverability side of the store (``store.deliverability``): daily spam-complaint figures.

``add`` writes one import in one transaction: a day of a source already stored is updated to what the
newer import says (a provider revises its figures, an SNDS export is taken again later in the day), so
importing the same file twice changes nothing. ``series`` reads a window back as the ``SpamRateSummary``
a scan is judged on. Every day is kept: there is no six-month limit to work around.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mimawari.errors import InputError, InvalidDomainError
from mimawari.model import SpamRateDay, SpamRateSummary
from mimawari.parse.names import normalize_domain
from mimawari.store.deliverability_models import SpamRateRow


class _Transactions(Protocol):
    def _transaction(self, conflict: str = "") -> AbstractContextManager[Session]: ...


@dataclass(frozen=True)
class Imported:
    """What one ``add`` did: days stored for the first time, days changed, days that were the same."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def days(self) -> int:
        return self.added + self.updated + self.unchanged


def _domain(domain: str) -> str:
    try:
        return normalize_domain(domain)
    except InvalidDomainError as error:
        raise InputError(str(error)) from None


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{text[:40]!r} is not a day (YYYY-MM-DD)") from None


def _figure(row: SpamRateRow) -> SpamRateDay:
    return SpamRateDay(row.day.isoformat(), row.source, row.rate, row.complaints, row.volume, row.upper_bound)


class DeliverabilityLedger:
    def __init__(self, store: _Transactions) -> None:
        self._store = store

    def add(self, domain: str, days: Iterable[SpamRateDay], now: datetime | None = None) -> Imported:
        """Store ``domain``'s figures; a day of a source already stored is replaced (see the module)."""
        name = _domain(domain)
        figures = {(_day(f.day), f.source): f for f in days}
        if not figures:
            return Imported()
        moment = now or datetime.now(UTC)
        added = updated = unchanged = 0
        conflict = f"another import of {name} ran at the same time; run this one again"
        with self._store._transaction(conflict=conflict) as session:
            query = select(SpamRateRow).where(
                SpamRateRow.domain == name,
                SpamRateRow.day.in_({day for day, _ in figures}),
                SpamRateRow.source.in_({source for _, source in figures}),
            )
            stored = {(row.day, row.source): row for row in session.scalars(query)}
            for (day, source), figure in sorted(figures.items()):
                row = stored.get((day, source))
                values = {
                    "rate": figure.rate,
                    "complaints": figure.complaints,
                    "volume": figure.volume,
                    "upper_bound": figure.upper_bound,
                }
                if row is None:
                    session.add(
                        SpamRateRow(domain=name, day=day, source=source, imported_at=moment, **values)
                    )
                    added += 1
                elif _figure(row) == figure:
                    unchanged += 1
                else:
                    for key, value in values.items():
                        setattr(row, key, value)
                    row.imported_at = moment
                    updated += 1
        return Imported(added, updated, unchanged)

    def series(self, domain: str, days: int, now: datetime) -> SpamRateSummary | None:
        """The figures of the ``days`` days ending on ``now``'s UTC day, oldest first (sources in name
        order within a day); None when none is stored."""
        name = _domain(domain)
        last = now.astimezone(UTC).date()
        query = (
            select(SpamRateRow)
            .where(
                SpamRateRow.domain == name,
                SpamRateRow.day > last - timedelta(days=days),
                SpamRateRow.day <= last,
            )
            .order_by(SpamRateRow.day, SpamRateRow.source)
        )
        with self._store._transaction() as session:
            figures = tuple(_figure(row) for row in session.scalars(query))
        return SpamRateSummary(days, figures) if figures else None

    def span(self, domain: str) -> tuple[str, str, int] | None:
        """(first day, last day, rows) of everything stored for ``domain``; None when nothing is."""
        query = select(
            func.min(SpamRateRow.day), func.max(SpamRateRow.day), func.count(SpamRateRow.id)
        ).where(SpamRateRow.domain == _domain(domain))
        with self._store._transaction() as session:
            first, last, count = session.execute(query).one()
        return (first.isoformat(), last.isoformat(), count) if count else None
