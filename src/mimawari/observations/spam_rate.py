"""Spam-complaint figures as an observation: what the mailbox providers measured for the domain.

Nothing is asked on the network: the figures were imported into the store beforehand (``mimawari
deliverability import``), and whoever starts the scan (``scan --org``, ``monitor``) puts them in
``Target.spam_rates``. The plan hands them on with the scan's UTC day, which the grade is judged on
(stale figures grade N/A), so a snapshot replays to the same observation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from mimawari.lookup import Plan
from mimawari.model import SpamRateSummary, Target
from mimawari.observations import Observer


@dataclass(frozen=True)
class SpamRateObservation:
    """``summary`` is None when the scan was given no spam-complaint figures for ``domain``."""

    domain: str
    day: str
    """The scan's UTC day (ISO 8601)."""
    summary: SpamRateSummary | None = None


def spam_rate_plan(target: Target) -> Plan[SpamRateObservation]:
    # A plan is a generator; this one has nothing to ask, so it yields nothing and returns at once.
    yield from ()
    day = datetime.fromtimestamp(target.moment(), UTC).date().isoformat()
    return SpamRateObservation(target.domain, day, target.spam_rates)


SPAM_RATE = Observer("spam_rate", spam_rate_plan)
