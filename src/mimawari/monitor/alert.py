"""An alert as the rules raise it and the notifiers send it: what changed, and what to do about it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from mimawari.model import Severity, Text


class AlertKind(StrEnum):
    """The conditions a rule can watch (``docs/monitoring.md`` describes each)."""

    SCORE_BELOW = "score_below"
    SCORE_DROP = "score_drop"
    GRADE_DROP = "grade_drop"
    NEW_FINDING = "new_finding"
    NEW_SERVICE = "new_service"
    CERTIFICATE_EXPIRING = "certificate_expiring"
    DMARC_WEAKENED = "dmarc_weakened"
    SPAM_RATE = "spam_rate"


@dataclass(frozen=True)
class Alert:
    """One change worth telling someone about, raised once (``key`` is what deduplicates it)."""

    organisation: str
    rule: str
    """The name of the rule in the configuration that raised it."""
    kind: AlertKind
    key: str
    """Stable for the same condition across scans (``score_below:example.com``): while it stays true,
    no second alert is raised."""
    severity: Severity
    domain: str
    scan_id: int
    raised_at: datetime
    title: Text
    """One line: ``Kuroneko Trading: kuroneko.example scored 58 (below 70)``."""
    changed: Text
    """What changed, with the values before and after."""
    action: Text
    """What to do about it: the fix of the finding, the record to publish, the certificate to renew."""


@dataclass(frozen=True)
class Condition:
    """What one rule found about one thing on one scan.

    ``active`` True: the condition holds (an alert is raised if it did not hold before); False: it does
    not (a held condition clears); None: undetermined (a timeout): whatever was held is kept, so a flaky
    probe neither clears nor re-raises an alert. ``alert`` is None when the condition holds but must not
    be announced: the first scan of an organisation sets the baseline for "new …" rules.
    """

    key: str
    active: bool | None
    alert: Alert | None = None
