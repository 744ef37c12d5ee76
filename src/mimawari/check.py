"""The one ``Check`` abstraction (DESIGN rule 4) and its typed registry.

A check is metadata plus a pure ``evaluate`` from one kind of observation to a ``Verdict``. The
``observer`` names the observation it reads, so the type checker verifies that a check's ``evaluate``
accepts exactly what its observer's plan produces. Adding a check is one small file plus one line in its
package's ``CHECKS``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from mimawari.model import Category, Finding, Grade, Reference, Severity, Text, Verdict
from mimawari.observations import Observer

ObsT = TypeVar("ObsT")


@dataclass(frozen=True)
class Check(Generic[ObsT]):
    id: str
    """Stable identifier, e.g. ``email.dmarc.policy``; stored with findings, never reused."""
    category: Category
    severity: Severity
    """How much harm a failing grade means; a verdict may override it."""
    title: Text
    references: tuple[Reference, ...]
    observer: Observer[ObsT]
    evaluate: Callable[[ObsT], Verdict]

    def finding(self, target: str, observation: ObsT) -> Finding:
        verdict = self.evaluate(observation)
        severity = verdict.severity or (Severity.INFO if verdict.grade.passing else self.severity)
        return Finding(
            check_id=self.id,
            target=target,
            category=self.category,
            grade=verdict.grade,
            severity=severity,
            title=self.title,
            summary=verdict.summary,
            evidence=verdict.evidence,
            fix=None if verdict.grade is Grade.A else verdict.fix,
            after_fix=None if verdict.grade is Grade.A else verdict.after_fix,
            references=self.references,
        )


Registry = Mapping[str, Check[Any]]


def registry(*groups: Iterable[Check[Any]]) -> dict[str, Check[Any]]:
    """Index checks by id; a duplicate id is a programming error caught at import time."""
    checks: dict[str, Check[Any]] = {}
    for check in (c for group in groups for c in group):
        if check.id in checks:
            raise ValueError(f"duplicate check id {check.id!r}")
        checks[check.id] = check
    return checks
