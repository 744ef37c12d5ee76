"""Grading a domain's spam-complaint rate: the figure the mailbox providers judge a sender by.

Gmail and Yahoo ask bulk senders to keep the user-reported spam rate under 0.1 % and never to reach
0.3 % (Gmail's sender guidelines, Yahoo's sender best practices, both from February 2024); Outlook.com's
rules for high-volume senders (May 2025) name no figure, and SNDS reports its own bands. Hence three grades: A under 0.1 %, C from 0.1 % to under 0.3 %,
E at 0.3 % or more.

What is graded is the worst daily figure of the **window**: the 7 days ending on the latest day that has a
rate, over every source (a sender in trouble at Gmail is in trouble, whatever SNDS says). A single bad day
counts: Google's tools count days over the line, and a weekly scan must not miss a spike between two
scans. The figures are **stale** when that latest day is more than ``STALE_AFTER_DAYS`` before the scan's
day: Postmaster Tools publishes a day one or two days late and SNDS the next day, so a daily import is
never stale, while figures a month old say nothing about today. Stale or absent figures grade N/A.

A figure that is only a band's upper end (SNDS ``< 0.1%``: ``upper_bound``) is under every threshold it
does not exceed: ``< 0.1%`` is under 0.1 %. Pure functions, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from mimawari.model import Grade, SpamRateDay, SpamRateSummary

WARNING_RATE = 0.001
"""0.1 %: the rate Gmail and Yahoo ask senders to stay under."""
CRITICAL_RATE = 0.003
"""0.3 %: the rate a sender must never reach; Gmail stops helping with delivery problems beyond it."""
WINDOW_DAYS = 7
STALE_AFTER_DAYS = 3


def exceeds(figure: SpamRateDay, threshold: float) -> bool:
    """True when the figure is at or over ``threshold``; an upper bound only when it is above it (its
    true rate is below the bound), a day without a rate never."""
    if figure.rate is None:
        return False
    return figure.rate > threshold if figure.upper_bound else figure.rate >= threshold


def grade_of(figure: SpamRateDay) -> Grade:
    if exceeds(figure, CRITICAL_RATE):
        return Grade.E
    if exceeds(figure, WARNING_RATE):
        return Grade.C
    return Grade.A


def _severity(figure: SpamRateDay) -> tuple[int, float, str]:
    """Orders figures worst last: by grade, then rate, then day (the latest of equals)."""
    rank = grade_of(figure).rank or 0
    return rank, figure.rate or 0.0, figure.day


@dataclass(frozen=True)
class SpamRateAssessment:
    """What the figures say on ``today``: the grade and the days it rests on."""

    grade: Grade
    """A, C or E; N/A when there is no rate at all, or it is stale."""
    today: str
    latest_day: str = ""
    """The latest day with a rate ("" when none)."""
    latest: tuple[SpamRateDay, ...] = ()
    """Every source's figure on the latest day."""
    worst: SpamRateDay | None = None
    """The worst figure of the window."""
    window: tuple[SpamRateDay, ...] = ()
    """Every figure with a rate in the ``WINDOW_DAYS`` days ending on the latest day, oldest first."""
    stale_days: int = 0
    """When stale: how many days the latest day lies before ``today``; else 0."""

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(sorted({f.source for f in self.window}))


def assess(
    summary: SpamRateSummary | None, today: date, stale_after: int = STALE_AFTER_DAYS
) -> SpamRateAssessment:
    """The grade of ``summary`` on ``today`` (the scan's UTC day)."""
    rated = [
        f for f in (summary.series if summary else ()) if f.rate is not None and f.day <= today.isoformat()
    ]
    if not rated:
        return SpamRateAssessment(Grade.NA, today.isoformat())
    latest_day = max(f.day for f in rated)
    first = (date.fromisoformat(latest_day) - timedelta(days=WINDOW_DAYS - 1)).isoformat()
    window = tuple(sorted((f for f in rated if f.day >= first), key=lambda f: (f.day, f.source)))
    latest = tuple(f for f in window if f.day == latest_day)
    worst = max(window, key=_severity)
    age = (today - date.fromisoformat(latest_day)).days
    grade = Grade.NA if age > stale_after else grade_of(worst)
    return SpamRateAssessment(
        grade,
        today.isoformat(),
        latest_day,
        latest,
        worst,
        window,
        stale_days=age if age > stale_after else 0,
    )


def percent(figure: SpamRateDay) -> str:
    """``0.12 %``, ``< 0.1 %`` for an upper bound, ``—`` without a rate; up to three decimals, never
    rounded up to a threshold (0.0999 % shows as ``0.099 %``)."""
    if figure.rate is None:
        return "—"
    value = (Decimal(repr(figure.rate)) * 100).quantize(Decimal("0.001"), rounding=ROUND_DOWN).normalize()
    shown = f"{value:f}" + " %"
    return f"< {shown}" if figure.upper_bound else shown
