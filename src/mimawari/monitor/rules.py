"""Alert rules: what the configuration file says to watch, and how each rule reads a scan.

A rule turns the organisation's newest complete scan (and the ones before it, for "what changed") into
``Condition`` values; ``store.alerts.apply`` keeps the conditions that hold and raises an alert only for
one that did not hold before. Two shapes of rule:

* states — ``score_below``, ``new_finding``, ``new_service``, ``certificate_expiring``, ``spam_rate``
  (``monitor.spam_rate``): the key names the thing (a domain, a check, a service, an endpoint), so the
  alert fires when the state begins and not again while it lasts; it can fire again after it has cleared.
* changes — ``score_drop``, ``grade_drop``, ``dmarc_weakened``: the key carries the scan, so every drop
  is its own alert, compared with the latest earlier scan in which the value could be determined.

Undetermined values (a timeout) never raise, never clear, and are never taken as a baseline.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mimawari.model import Category, Grade, Severity
from mimawari.monitor import alert_texts as texts
from mimawari.monitor.alert import Alert, AlertKind, Condition
from mimawari.monitor.assets import (
    AssetKind,
    Exposure,
    Path,
    certificates_of,
    dmarc_stance,
    exposure_of,
    weakened,
)
from mimawari.monitor.spam_rate import spam_rate
from mimawari.observations.dmarc import DMARC, DmarcObservation
from mimawari.scan import DomainReport
from mimawari.store.records import Organisation, Relation, ScanRecord

T = TypeVar("T")


class Selector(BaseModel):
    """Which organisations something applies to: every one when empty; the fields narrow it together."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    organisations: tuple[str, ...] = ()
    relations: tuple[Relation, ...] = ()
    tags: tuple[str, ...] = ()

    def matches(self, organisation: Organisation) -> bool:
        return (
            (not self.organisations or organisation.name in self.organisations)
            and (not self.relations or organisation.relation in self.relations)
            and (not self.tags or any(t.lower() in organisation.tags for t in self.tags))
        )


class _Rule(Selector):
    name: str = Field(min_length=1, max_length=100)
    notify: tuple[str, ...] = ()
    """Notifier names; empty means every notifier configured."""


class ScoreBelow(_Rule):
    kind: Literal["score_below"]
    threshold: float = Field(gt=0, le=100)


class ScoreDrop(_Rule):
    kind: Literal["score_drop"]
    points: float = Field(gt=0, le=100)


class GradeDrop(_Rule):
    kind: Literal["grade_drop"]
    categories: tuple[Category, ...] = ()
    """Empty: every category."""
    steps: int = Field(default=1, ge=1, le=4)


class NewFinding(_Rule):
    kind: Literal["new_finding"]
    severity: Severity = Severity.HIGH
    """The least severity a check must have for its new finding to raise an alert."""


class NewService(_Rule):
    kind: Literal["new_service"]


class CertificateExpiring(_Rule):
    kind: Literal["certificate_expiring"]
    days: int = Field(default=14, ge=1, le=365)


class DmarcWeakened(_Rule):
    kind: Literal["dmarc_weakened"]


class SpamRate(_Rule):
    """The spam-complaint rate reached ``warning`` or ``critical`` (percent; see ``monitor.spam_rate``)."""

    kind: Literal["spam_rate"]
    warning: float = Field(default=0.1, gt=0, le=100)
    critical: float = Field(default=0.3, gt=0, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.warning >= self.critical:
            raise ValueError(f"warning ({self.warning:g} %) must be under critical ({self.critical:g} %)")
        return self


Rule = Annotated[
    ScoreBelow
    | ScoreDrop
    | GradeDrop
    | NewFinding
    | NewService
    | CertificateExpiring
    | DmarcWeakened
    | SpamRate,
    Field(discriminator="kind"),
]


@dataclass(frozen=True)
class ScanView:
    """A complete scan with its reports by domain."""

    record: ScanRecord
    reports: Mapping[str, DomainReport]


@dataclass(frozen=True)
class Situation:
    """What a rule reads: the organisation, its newest scan and the earlier ones, newest first."""

    organisation: Organisation
    current: ScanView
    earlier: Sequence[ScanView]
    now: datetime

    def before(self, domain: str, value: Callable[[DomainReport], T | None]) -> tuple[T, ScanView] | None:
        """The latest earlier determined ``value`` of ``domain``'s report, with the scan it is from."""
        for view in self.earlier:
            report = view.reports.get(domain)
            found = value(report) if report is not None else None
            if found is not None:
                return found, view
        return None

    def alert(
        self, rule: _Rule, kind: AlertKind, key: str, severity: Severity, domain: str, message: texts.Message
    ) -> Alert:
        return Alert(
            organisation=self.organisation.name,
            rule=rule.name,
            kind=kind,
            key=key,
            severity=severity,
            domain=domain,
            scan_id=self.current.record.id,
            raised_at=self.now,
            title=message.title,
            changed=message.changed,
            action=message.action,
        )


def _score(report: DomainReport) -> float | None:
    return report.score.score if report.score is not None else None


def _check_grade(report: DomainReport, check_id: str) -> Grade | None:
    """The check's grade in the report; None when unknown or when the report has no such check."""
    grade = next((f.grade for f in report.findings if f.check_id == check_id), None)
    return None if grade is Grade.UNKNOWN else grade


def score_below(rule: ScoreBelow, s: Situation) -> Iterator[Condition]:
    for domain, report in s.current.reports.items():
        now = _score(report)
        if now is None:
            yield Condition(domain, None)
            continue
        held = now < rule.threshold
        alert = None
        if held:
            before = s.before(domain, _score)
            previous = (before[0], before[1].record.started_at) if before is not None else None
            message = texts.score_below(s.organisation.name, report, rule.threshold, previous)
            alert = s.alert(rule, AlertKind.SCORE_BELOW, domain, Severity.HIGH, domain, message)
        yield Condition(domain, held, alert)


def score_drop(rule: ScoreDrop, s: Situation) -> Iterator[Condition]:
    for domain, report in s.current.reports.items():
        key = f"{domain}@{s.current.record.id}"
        now, before = _score(report), s.before(domain, _score)
        if now is None or before is None:
            yield Condition(key, None if now is None else False)
            continue
        held = before[0] - now >= rule.points
        alert = None
        if held:
            since = before[1].record.started_at
            message = texts.score_drop(s.organisation.name, before[1].reports[domain], report, since)
            alert = s.alert(rule, AlertKind.SCORE_DROP, key, Severity.HIGH, domain, message)
        yield Condition(key, held, alert)


def _category_grade(report: DomainReport, category: Category) -> Grade | None:
    """The category's letter A–E in the report; None when unknown, N/A or not scored."""
    found = report.score.category(category) if report.score is not None else None
    return found.grade if found is not None and found.grade.rank is not None else None


def grade_drop(rule: GradeDrop, s: Situation) -> Iterator[Condition]:
    for domain, report in s.current.reports.items():
        for category in rule.categories or tuple(Category):
            key = f"{domain}/{category.value}@{s.current.record.id}"
            grade = _category_grade(report, category)
            before = s.before(domain, partial(_category_grade, category=category))
            if grade is None or grade.rank is None or before is None or before[0].rank is None:
                yield Condition(key, None)
                continue
            held = grade.rank - before[0].rank >= rule.steps
            alert = None
            if held:
                message = texts.grade_drop(
                    s.organisation.name,
                    category,
                    before[1].reports[domain],
                    report,
                    before[1].record.started_at,
                )
                alert = s.alert(rule, AlertKind.GRADE_DROP, key, Severity.MEDIUM, domain, message)
            yield Condition(key, held, alert)


def new_finding(rule: NewFinding, s: Situation) -> Iterator[Condition]:
    for domain, report in s.current.reports.items():
        for finding in report.findings:
            key = f"{domain}/{finding.check_id}"
            # Unknown first: an unknown finding carries the check's least severity, yet may be the
            # check a held condition is about.
            if finding.grade is Grade.UNKNOWN:
                yield Condition(key, None)
                continue
            if finding.severity.rank < rule.severity.rank:
                continue
            held = not finding.grade.passing
            before = s.before(domain, partial(_check_grade, check_id=finding.check_id))
            # Announced only against a baseline that had the check passing: the first scan of a domain,
            # or a check the rules did not have before, sets the baseline silently.
            alert = None
            if held and before is not None and before[0].passing:
                message = texts.new_finding(
                    s.organisation.name, finding, before[0], before[1].record.started_at
                )
                alert = s.alert(rule, AlertKind.NEW_FINDING, key, finding.severity, domain, message)
            yield Condition(key, held, alert)


def _services(exposure: Exposure) -> dict[str, Path]:
    """The services a report saw answering, by name, with the path of lookups that led to each."""
    return {seen.asset.name: seen.path for seen in exposure.sightings if seen.asset.kind is AssetKind.SERVICE}


def _earlier_exposures(s: Situation, domain: str) -> list[Exposure]:
    return [exposure_of(v.reports[domain]) for v in s.earlier if domain in v.reports]


def _unsure(now: Exposure, earlier: list[Exposure]) -> set[str]:
    """Services seen by an earlier scan that this one neither saw nor settled as gone (its MX lookup, the
    host's address or the port timed out): their conditions are undetermined, kept as they are."""
    services = _services(now)
    return {
        name
        for before in earlier
        for name, path in _services(before).items()
        if name not in services and not now.settles(path)
    }


def _was_closed(name: str, path: Path, earlier: list[Exposure]) -> bool:
    """True when the latest earlier scan that could tell found the service closed; False when it was
    open, or when no earlier scan could tell (the first scan is the baseline)."""
    for before in earlier:
        if name in _services(before):
            return False
        if before.settles(path):
            return True
    return False


def new_service(rule: NewService, s: Situation) -> Iterator[Condition]:
    for domain, report in s.current.reports.items():
        now, earlier = exposure_of(report), _earlier_exposures(s, domain)
        for name in sorted(
            _unsure(now, earlier) | {a.name for a in now.undetermined if a.kind is AssetKind.SERVICE}
        ):
            yield Condition(name, None)
        for name, path in sorted(_services(now).items()):
            alert = None
            if _was_closed(name, path, earlier):
                message = texts.new_service(s.organisation.name, domain, name)
                alert = s.alert(rule, AlertKind.NEW_SERVICE, name, Severity.MEDIUM, domain, message)
            yield Condition(name, True, alert)


def certificate_expiring(rule: CertificateExpiring, s: Situation) -> Iterator[Condition]:
    for domain, report in s.current.reports.items():
        moment = report.snapshot.target.moment()
        now = exposure_of(report)
        unsure = _unsure(now, _earlier_exposures(s, domain))
        unsure |= {name for name, path in _services(now).items() if (*path, "tls") in now.unsettled}
        for name in sorted(unsure):
            yield Condition(name, None)
        for certificate in certificates_of(report):
            days = certificate.days_left(moment)
            if days is None or certificate.not_after is None:  # unreadable: the TLS checks grade that
                yield Condition(certificate.endpoint, None)
                continue
            held = days < rule.days
            alert = None
            if held:
                severity = Severity.HIGH if days < 7 else Severity.MEDIUM
                expires = datetime.fromtimestamp(certificate.not_after, UTC)
                message = texts.certificate_expiring(
                    s.organisation.name, certificate.endpoint, certificate.names, expires, days
                )
                alert = s.alert(
                    rule, AlertKind.CERTIFICATE_EXPIRING, certificate.endpoint, severity, domain, message
                )
            yield Condition(certificate.endpoint, held, alert)


def dmarc_weakened(rule: DmarcWeakened, s: Situation) -> Iterator[Condition]:
    for domain, report in s.current.reports.items():
        key = f"{domain}@{s.current.record.id}"
        now, before = dmarc_stance(report), s.before(domain, dmarc_stance)
        if now is None or before is None:
            yield Condition(key, None if now is None else False)
            continue
        reasons = weakened(before[0], now)
        alert = None
        if reasons:
            previous = dmarc_record(before[1].reports[domain])
            since = before[1].record.started_at
            message = texts.dmarc_weakened(s.organisation.name, domain, reasons, previous, since)
            alert = s.alert(rule, AlertKind.DMARC_WEAKENED, key, Severity.HIGH, domain, message)
        yield Condition(key, bool(reasons), alert)


def conditions(rule: Rule, situation: Situation) -> list[Condition]:
    """What ``rule`` finds on the situation's newest scan, one condition per key."""
    found: Iterator[Condition]
    match rule:
        case ScoreBelow():
            found = score_below(rule, situation)
        case ScoreDrop():
            found = score_drop(rule, situation)
        case GradeDrop():
            found = grade_drop(rule, situation)
        case NewFinding():
            found = new_finding(rule, situation)
        case NewService():
            found = new_service(rule, situation)
        case CertificateExpiring():
            found = certificate_expiring(rule, situation)
        case DmarcWeakened():
            found = dmarc_weakened(rule, situation)
        case SpamRate():
            found = spam_rate(rule, situation)
    # One condition per key: an endpoint seen from two domains (a shared MX) is judged once; a
    # determined value wins over an undetermined one.
    merged: dict[str, Condition] = {}
    for condition in found:
        if condition.key not in merged or merged[condition.key].active is None:
            merged[condition.key] = condition
    return list(merged.values())


def dmarc_record(report: DomainReport) -> str:
    """The DMARC record the report saw, to offer it back when it was weakened ("" when none)."""
    observation = report.observations.get(DMARC.name)
    if isinstance(observation, DmarcObservation) and observation.record is not None:
        return observation.record.text
    return ""
