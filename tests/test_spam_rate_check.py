"""email.other.spam_rate on hand-made series: the 0.1 % and 0.3 % lines, SNDS's upper bounds, the 7-day
window, stale figures, several sources, N/A without data, and the figures carried through a replayed
snapshot."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from mimawari.checks.email.other.spam_rate import CHECK
from mimawari.deliverability.grading import assess, exceeds, percent
from mimawari.lookup import Request, Response, Snapshot
from mimawari.model import Category, Finding, Grade, Severity, SpamRateDay, SpamRateSummary, Target
from mimawari.observations.spam_rate import SPAM_RATE, SpamRateObservation
from mimawari.scan import evaluate_snapshot, scan_target
from mimawari.serial import from_json, to_json

D = "example.com"
TODAY = "2026-12-03"
G, S, Y = "google-postmaster", "microsoft-snds", "yahoo-arf"


def day(
    when: str,
    rate: float | None,
    source: str = G,
    *,
    complaints: int | None = None,
    volume: int | None = None,
    upper_bound: bool = False,
) -> SpamRateDay:
    return SpamRateDay(when, source, rate, complaints, volume, upper_bound)


def finding(*series: SpamRateDay, today: str = TODAY) -> Finding:
    return CHECK.finding(D, SpamRateObservation(D, today, SpamRateSummary(30, series)))


def evidence_of(result: Finding) -> str:
    return " | ".join(f"{e.source}: {e.value}" for e in result.evidence)


def test_metadata() -> None:
    assert (CHECK.id, CHECK.category, CHECK.severity) == (
        "email.other.spam_rate",
        Category.EMAIL_OTHER,
        Severity.HIGH,
    )
    assert CHECK.observer is SPAM_RATE and CHECK.title.ja != CHECK.title.en


def test_no_data_is_not_applicable_and_says_how_to_import() -> None:
    result = CHECK.finding(D, SpamRateObservation(D, TODAY, None))
    assert result.grade is Grade.NA and result.severity is Severity.INFO
    for text in (result.summary.en, result.summary.ja):
        assert "mimawari deliverability import postmaster|snds|arf --domain example.com" in text
    assert "needs data" in result.summary.en and result.fix is None


def test_days_without_a_rate_are_no_data() -> None:
    result = finding(day("2026-12-02", None))
    assert result.grade is Grade.NA and "mimawari deliverability import" in result.summary.en


@pytest.mark.parametrize(
    ("figure", "grade"),
    [
        (day("2026-12-02", 0.0), Grade.A),
        (day("2026-12-02", 0.000999), Grade.A),
        (day("2026-12-02", 0.001), Grade.C),  # "keep under 0.1 %": 0.1 % itself is over the line
        (day("2026-12-02", 0.00299), Grade.C),
        (day("2026-12-02", 0.003), Grade.E),  # "never 0.3 % or more"
        (day("2026-12-02", 0.02), Grade.E),
        (day("2026-12-02", 0.001, S, volume=8100, upper_bound=True), Grade.A),  # SNDS "< 0.1%"
        (day("2026-12-02", 0.0012, S, volume=10_000, upper_bound=True), Grade.C),  # < 0.12 %: maybe over
        (day("2026-12-02", 0.003, S, upper_bound=True), Grade.C),  # under 0.3 % for sure
    ],
)
def test_grades_follow_the_lines(figure: SpamRateDay, grade: Grade) -> None:
    assert finding(figure).grade is grade


def test_the_worst_day_of_the_week_counts_not_only_the_latest() -> None:
    series = (
        day("2026-11-25", 0.009),  # eight days before the latest: outside the window
        day("2026-11-26", 0.0035, Y, complaints=7, volume=2000),
        day("2026-12-01", 0.0005),
        day("2026-12-02", 0.0004),
        day("2026-12-02", 0.001, S, volume=8100, upper_bound=True),
    )
    result = finding(*series)
    assert result.grade is Grade.E
    assert "0.35 % on 2026-11-26 (yahoo-arf)" in result.summary.en and "2026-11-26" in result.summary.ja
    shown = evidence_of(result)
    assert (
        "latest day 2026-12-02: 0.04 % (google-postmaster), < 0.1 % (microsoft-snds, 8,100 recipients)"
        in shown
    )
    assert "2026-11-26: 0.35 % (yahoo-arf, 7 complaints of 2,000)" in shown
    assert "google-postmaster: 3 days, latest 2026-12-02; microsoft-snds: 1 days" in shown
    assert "0.9 %" not in shown
    assert finding(*series[2:]).grade is Grade.A


def test_failing_grades_carry_a_concrete_fix() -> None:
    result = finding(day("2026-12-02", 0.0015))
    assert result.grade is Grade.C and result.severity is Severity.HIGH
    assert "0.15 % on 2026-12-02" in result.summary.en and "0.1 %" in result.summary.ja
    assert result.fix is not None and result.fix.snippet is not None
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in result.fix.snippet
    assert "https://example.com/unsubscribe" in result.fix.snippet and "{" not in result.fix.snippet
    for word in ("one-click unsubscribe", "opt-in", "DKIM", "less often"):
        assert word in result.fix.action.en
    assert "ワンクリック" in result.fix.action.ja
    assert result.after_fix is not None and result.after_fix.grade is Grade.A
    passing = finding(day("2026-12-02", 0.0002))
    assert passing.fix is None and "stayed under 0.1 %" in passing.summary.en


def test_stale_figures_are_not_graded() -> None:
    series = (day("2026-11-29", 0.02),)
    assert finding(*series, today="2026-12-02").grade is Grade.E  # three days: still current
    stale = finding(*series, today="2026-12-03")
    assert stale.grade is Grade.NA
    assert "from 2026-11-29, 4 days before the scan" in stale.summary.en and "4 日前" in stale.summary.ja
    assert "0.02" not in stale.summary.en and "2026-11-29" in evidence_of(stale)


def test_figures_after_the_scan_day_are_ignored() -> None:
    assert finding(day("2026-12-04", 0.02), day("2026-12-02", 0.0001)).grade is Grade.A


def test_percent_and_exceeds() -> None:
    assert percent(day("d", 0.00999)) == "0.999 %" and percent(day("d", 0.0012)) == "0.12 %"
    assert percent(day("d", 0.000999)) == "0.099 %"  # never rounded up to the line
    assert percent(day("d", 0.1)) == "10 %" and percent(day("d", 0.0)) == "0 %"
    assert percent(day("d", 0.001, upper_bound=True)) == "< 0.1 %" and percent(day("d", None)) == "—"
    assert exceeds(day("d", 0.001), 0.001) and not exceeds(day("d", 0.001, upper_bound=True), 0.001)
    assert not exceeds(day("d", None), 0.0)
    summary = SpamRateSummary(30, (day("2026-12-01", 0.001), day("2026-12-01", 0.004, S)))
    assessment = assess(summary, date(2026, 12, 3))
    assert assessment.sources == (G, S) and assessment.worst == day("2026-12-01", 0.004, S)


# --- the figures in the target: replay ---------------------------------------------------------------------

OBSERVED_AT = int(datetime(2026, 12, 3, 8, 0, tzinfo=UTC).timestamp())
SUMMARY = SpamRateSummary(
    30, (day("2026-12-01", 0.0005), day("2026-12-02", 0.0031, Y, complaints=31, volume=10_000))
)


def test_a_replayed_snapshot_gives_the_same_finding() -> None:
    stored = to_json(Snapshot(Target(D, observed_at=OBSERVED_AT, spam_rates=SUMMARY)))
    report = evaluate_snapshot(from_json(Snapshot, stored), {CHECK.id: CHECK})
    (result,) = report.findings
    assert result.grade is Grade.E and result == finding(*SUMMARY.series)
    assert report.observations["spam_rate"] == SpamRateObservation(D, "2026-12-03", SUMMARY)
    (without,) = evaluate_snapshot(Snapshot(Target(D, observed_at=OBSERVED_AT)), {CHECK.id: CHECK}).findings
    assert without.grade is Grade.NA


class NoNetwork:
    async def send(self, request: Request) -> Response:
        raise AssertionError(f"the spam-rate plan asked {request}")


async def test_the_scan_asks_nothing_on_the_network() -> None:
    report = await scan_target(
        Target(D, observed_at=OBSERVED_AT, spam_rates=SUMMARY), NoNetwork(), {CHECK.id: CHECK}
    )
    assert report.findings[0].grade is Grade.E
