"""The spam_rate alert rule on scans whose targets carry daily spam-complaint figures: through the store, a
rise 0.05 → 0.15 → 0.35 → 0.05 % raises the warning once, then the critical alert once, then nothing;
scans without figures, or with stale ones, never raise or clear; thresholds and texts; the rule in the
configuration file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import TypeAdapter, ValidationError

from mimawari.checks.email.other.spam_rate import CHECK
from mimawari.config import load_config
from mimawari.errors import InputError
from mimawari.lookup import Snapshot
from mimawari.model import Severity, SpamRateDay, SpamRateSummary, Target
from mimawari.monitor.alert import AlertKind, Condition
from mimawari.monitor.rules import Rule, ScanView, Situation, SpamRate, conditions
from mimawari.scan import DomainReport, evaluate_snapshot
from mimawari.store import Organisation, Relation, ScanRecord, ScanStatus, Store, open_store

D = "example.com"
KURONEKO = Organisation("Kuroneko", Relation.SELF, domains=(D,))
FIRST_DAY = date(2026, 11, 1)
RULE = SpamRate(kind="spam_rate", name="complaints")


def report(scan_day: int, rates: list[float | None]) -> DomainReport:
    """A scan on ``FIRST_DAY + scan_day`` (9:00 UTC) given a figure for each day before it, in percent
    (None: no figure that day; an empty list: no figures at all)."""
    series = tuple(
        SpamRateDay((FIRST_DAY + timedelta(days=n)).isoformat(), "google-postmaster", rate / 100)
        for n, rate in enumerate(rates)
        if rate is not None
    )
    moment = datetime.combine(FIRST_DAY + timedelta(days=scan_day), datetime.min.time(), UTC) + timedelta(
        hours=9
    )
    target = Target(
        D, observed_at=int(moment.timestamp()), spam_rates=SpamRateSummary(30, series) if series else None
    )
    return evaluate_snapshot(Snapshot(target), {CHECK.id: CHECK})


def evaluate(store: Store, scanned: DomainReport, rule: SpamRate = RULE) -> tuple[list[Condition], list[str]]:
    """Store the scan, run the rule on it as the monitor does, and return its conditions and the keys of
    the alerts the store raised."""
    scan_id = store.begin_scan(KURONEKO.name)
    store.add_report(scan_id, scanned)
    store.finish_scan(scan_id)
    history = store.scans(KURONEKO.name)[::-1]
    current, *earlier = [ScanView(r, {D: store.load_report(r.id, D)}) for r in history]
    now = datetime.fromtimestamp(scanned.snapshot.target.observed_at, UTC)
    found = conditions(rule, Situation(KURONEKO, current, earlier[:3], now))
    raised = store.alerts.apply(scan_id, {rule.name: found}, {rule.name: ()}, now)
    return found, [a.alert.key for a in raised]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(f"sqlite:///{tmp_path / 'store.db'}") as opened:
        opened.add_organisation(KURONEKO)
        yield opened


def test_a_rise_raises_the_warning_once_then_the_critical_once_then_nothing(store: Store) -> None:
    rates: list[float | None] = []
    raised = []
    for rate in (0.05, 0.05, 0.15, 0.15, 0.35, 0.35, 0.05):
        rates.append(rate)
        raised.append(evaluate(store, report(len(rates), rates))[1])
    assert raised == [[], [], [f"{D}/warning"], [], [f"{D}/critical"], [], []]
    # A week of 0.05 % clears both (silently); the next rise is announced again.
    for _ in range(7):
        rates.append(0.05)
        found, keys = evaluate(store, report(len(rates), rates))
        assert keys == []
    assert {c.key: c.active for c in found} == {f"{D}/critical": False, f"{D}/warning": False}
    rates.append(0.2)
    assert evaluate(store, report(len(rates), rates))[1] == [f"{D}/warning"]


def test_crossing_both_lines_at_once_raises_only_the_critical_alert(store: Store) -> None:
    found, keys = evaluate(store, report(2, [0.05, 0.5]))
    assert keys == [f"{D}/critical"]
    by_key = {c.key: c for c in found}
    assert by_key[f"{D}/warning"].active is True and by_key[f"{D}/warning"].alert is None
    alert = by_key[f"{D}/critical"].alert
    assert alert is not None and (alert.kind, alert.severity) == (AlertKind.SPAM_RATE, Severity.CRITICAL)
    assert alert.title.en == f"Kuroneko: spam-complaint rate of {D} reached 0.5 % (at or over 0.3 %)"
    assert "0.5 %" in alert.title.ja and "0.3 %" in alert.title.ja
    assert "0.5 % on 2026-11-02 (google-postmaster)" in alert.changed.en and "2026-11-02" in alert.changed.ja
    assert "one-click" in alert.action.en and f"mimawari deliverability show {D}" in alert.action.ja


def test_no_figures_and_stale_figures_never_raise_nor_clear(store: Store) -> None:
    assert evaluate(store, report(1, []))[1] == []
    found, _ = evaluate(store, report(2, [0.5]))
    assert _ == [f"{D}/critical"]
    # The next scans have no figures, then figures four days old: the alert neither clears nor repeats.
    for scanned in (report(3, []), report(5, [0.5])):
        found, keys = evaluate(store, scanned)
        assert keys == [] and {c.active for c in found} == {None}
    assert evaluate(store, report(6, [0.5, None, None, None, 0.4]))[1] == []  # still held: no new alert


def test_an_snds_upper_bound_at_the_line_is_under_it() -> None:
    bound = SpamRateDay("2026-11-01", "microsoft-snds", 0.001, None, 8100, upper_bound=True)
    target = Target(
        D,
        observed_at=int(datetime(2026, 11, 2, tzinfo=UTC).timestamp()),
        spam_rates=SpamRateSummary(30, (bound,)),
    )
    scanned = evaluate_snapshot(Snapshot(target), {CHECK.id: CHECK})
    found = conditions(RULE, situation(scanned))
    assert {c.key: c.active for c in found} == {f"{D}/critical": False, f"{D}/warning": False}


def situation(scanned: DomainReport) -> Situation:
    started = datetime.fromtimestamp(scanned.snapshot.target.observed_at, UTC)
    record = ScanRecord(1, KURONEKO.name, ScanStatus.COMPLETE, started, started, "", "", ())
    return Situation(KURONEKO, ScanView(record, {D: scanned}), (), started)


def test_thresholds_are_configurable_in_percent() -> None:
    strict = SpamRate(kind="spam_rate", name="strict", warning=0.05, critical=0.1)
    found = {c.key: c for c in conditions(strict, situation(report(2, [0.01, 0.08])))}
    alert = found[f"{D}/warning"].alert
    assert alert is not None and alert.severity is Severity.HIGH and "(at or over 0.05 %)" in alert.title.en
    assert found[f"{D}/critical"].active is False


def test_the_rule_parses_with_defaults_and_refuses_disordered_lines(tmp_path: Path) -> None:
    parse = TypeAdapter[Rule](Rule).validate_python
    rule = parse({"kind": "spam_rate", "name": "s", "tags": ["own"]})
    assert isinstance(rule, SpamRate) and (rule.warning, rule.critical) == (0.1, 0.3)
    with pytest.raises(ValidationError, match=r"warning \(0.3 %\) must be under critical \(0.1 %\)"):
        parse({"kind": "spam_rate", "name": "s", "warning": 0.3, "critical": 0.1})
    with pytest.raises(ValidationError):
        parse({"kind": "spam_rate", "name": "s", "critical": 0})
    config = tmp_path / "config.yaml"
    config.write_text("alerts:\n  rules:\n    - {name: complaints, kind: spam_rate, critical: 0.5}\n")
    (loaded,) = load_config(config).alerts.rules
    assert isinstance(loaded, SpamRate) and (loaded.warning, loaded.critical) == (0.1, 0.5)
    config.write_text(
        "alerts:\n  rules:\n    - {name: complaints, kind: spam_rate, warning: 1, critical: 1}\n"
    )
    with pytest.raises(InputError) as raised:
        load_config(config)
    assert "\n" not in str(raised.value) and "must be under critical" in str(raised.value)
