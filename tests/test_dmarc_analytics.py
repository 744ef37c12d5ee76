"""Summary and readiness on the synthetic month of ``test_dmarc_sources`` (its docstring has the corpus),
whose every total is known: 4570 own, 600 SendGrid, 303 list, 150 spoofed and 20 unknown messages."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from mimawari.dmarc.analytics import (
    ASSUMED_FROM_RECORD,
    ASSUMED_FROM_REPORT,
    MIN_DAYS,
    DayVolume,
    Readiness,
    Volume,
    next_policy,
    readiness,
    record_for,
    summary,
)
from mimawari.dmarc.model import PublishedPolicy
from mimawari.dmarc.senders import known_senders
from mimawari.dmarc.sources import SourceVerdict
from mimawari.errors import InputError
from mimawari.serial import from_jsonable, to_jsonable
from mimawari.store import Store, open_store
from tests.test_dmarc_sources import DOMAIN, LAST, NOW, POLICY, REVERSE, START, fill

TOTAL = 4570 + 600 + 303 + 150 + 20
LEGITIMATE = 4570 + 600 + 303
LIVE_RECORD = "v=DMARC1; p=none; rua=mailto:dmarc@kuroneko.example; ruf=mailto:fail@kuroneko.example; fo=1"


def open_filled(
    url: str, *, days: range = range(30), sendgrid_aligned: bool = False, policy: PublishedPolicy = POLICY
) -> Store:
    store = open_store(url)
    fill(store, days=days, sendgrid_aligned=sendgrid_aligned, policy=policy)
    return store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_filled(f"sqlite:///{tmp_path / 'store.db'}") as opened:
        yield opened


def test_summary_totals_rates_and_dispositions(store: Store) -> None:
    result = summary(store, DOMAIN, 30, NOW)
    assert result.total == Volume(
        messages=TOTAL,
        dmarc_pass=4570 + 300,
        dkim_aligned=4570 + 300,
        spf_aligned=4570,
        none=TOTAL - 50 - 20,
        quarantine=50,
        reject=20,
        dmarc_pass_rate=4870 / TOTAL,
        dkim_aligned_rate=4870 / TOTAL,
        spf_aligned_rate=4570 / TOTAL,
    )
    assert (result.domain, result.since, result.until) == (DOMAIN, START, NOW)
    assert (result.reports, result.reporters, result.reporter_names) == (37, 2, ("Yahoo", "google.com"))
    assert result.policy == POLICY
    assert result.policy_seen == LAST


def test_summary_per_day(store: Store) -> None:
    daily = summary(store, DOMAIN, 30, NOW).daily
    # 2026-10-02 … 2026-11-01: the window's 31 calendar days, the last without reports yet.
    assert [d.day for d in daily] == [date(2026, 10, 2) + timedelta(days=n) for n in range(31)]
    first, day10, day11, today = daily[0].volume, daily[10].volume, daily[11].volume, daily[30].volume
    # Day 0: own 150 + Yahoo 10, SendGrid 20, list 10 + 1 broken, spoofer .1 (quarantined) 5.
    assert (first.messages, first.dmarc_pass, first.spf_aligned, first.quarantine) == (196, 170, 160, 5)
    # Day 10: no Yahoo; a broken list message; the unknown sender's 2 rejected; spoofer .2.
    assert (day10.messages, day10.dmarc_pass, day10.reject, day10.quarantine) == (188, 160, 2, 0)
    assert day11.messages == 150 + 20 + 10 + 5 + 2
    assert today == Volume(0, 0, 0, 0, 0, 0, 0, 0.0, 0.0, 0.0)
    assert sum(d.volume.messages for d in daily) == TOTAL
    assert isinstance(daily[0], DayVolume)


def test_readiness_names_what_to_fix_first(store: Store) -> None:
    result = readiness(store, DOMAIN, 30, NOW, REVERSE)
    assert (result.current, result.next_policy) == (POLICY, "quarantine")
    assert (result.legitimate_messages, result.legitimate_failing) == (LEGITIMATE, 603)
    assert result.failing_share == 603 / LEGITIMATE
    assert [(s.name, s.verdict, s.failing) for s in result.failing_sources] == [
        ("SendGrid", "misaligned", 600),
        ("example.org", "forwarder", 3),
    ]
    sendgrid = known_senders().match("sendgrid.net")
    assert sendgrid is not None
    assert result.failing_sources[0].fix == sendgrid.fix
    assert (result.days_with_data, result.enough_data, result.safe) == (30, True, False)
    assert result.record == "v=DMARC1; p=quarantine"
    assert result.assumptions == ASSUMED_FROM_REPORT
    assert result.advice.en.startswith("Not yet: 11.02% of legitimate mail would fail under p=quarantine")
    assert "SendGrid (600 messages): Set up Domain Authentication" in result.advice.en
    assert "SendGrid（600 通）" in result.advice.ja
    verdicts = {s.name: s.verdict for s in result.sources}
    assert verdicts["kuroneko.example"] is SourceVerdict.ALIGNED


def test_readiness_safe_once_the_esp_is_aligned(tmp_path: Path) -> None:
    with open_filled(f"sqlite:///{tmp_path / 'store.db'}", sendgrid_aligned=True) as store:
        from_report = readiness(store, DOMAIN, 30, NOW, REVERSE)
        from_live = readiness(store, DOMAIN, 30, NOW, REVERSE, current_record=LIVE_RECORD)
    assert (from_report.legitimate_failing, from_report.safe) == (3, True)
    assert from_report.failing_share == 3 / LEGITIMATE
    assert from_report.advice.en.endswith("Publish at _dmarc.kuroneko.example: v=DMARC1; p=quarantine")
    assert "_dmarc.kuroneko.example に次のレコードを公開してください" in from_report.advice.ja
    # The live record keeps its report addresses and options; only p changes.
    assert from_live.record == (
        "v=DMARC1; p=quarantine; rua=mailto:dmarc@kuroneko.example; ruf=mailto:fail@kuroneko.example; fo=1"
    )
    assert from_live.assumptions == (ASSUMED_FROM_RECORD,)
    assert from_live.safe


def test_readiness_waits_for_enough_data(tmp_path: Path) -> None:
    with open_filled(
        f"sqlite:///{tmp_path / 'store.db'}", days=range(27, 30), sendgrid_aligned=True
    ) as store:
        result = readiness(store, DOMAIN, 30, NOW, REVERSE)
    assert (result.days_with_data, result.enough_data, result.safe) == (3, False, False)
    assert result.failing_share == 0.0
    assert f"wait for at least {MIN_DAYS} days" in result.advice.en
    assert result.record == "v=DMARC1; p=quarantine"  # what to publish later, once it is safe


def test_readiness_at_the_top_and_without_reports(tmp_path: Path) -> None:
    full = PublishedPolicy(DOMAIN, p="reject", sp="reject", pct=100)
    with open_filled(f"sqlite:///{tmp_path / 'store.db'}", policy=full) as store:
        top = readiness(store, DOMAIN, 30, NOW)
        nothing = readiness(store, "other.example", 30, NOW)
    assert (top.next_policy, top.record, top.safe, top.assumptions) == (None, None, False, ())
    assert "already at p=reject" in top.advice.en
    assert (nothing.current, nothing.next_policy, nothing.legitimate_messages, nothing.safe) == (
        None,
        None,
        0,
        False,
    )
    assert "No aggregate reports" in nothing.advice.en
    with pytest.raises(InputError):
        readiness(store, DOMAIN, -1, NOW)


@pytest.mark.parametrize(
    ("policy", "step", "record"),
    [
        (PublishedPolicy(DOMAIN, p="none"), "quarantine", "v=DMARC1; p=quarantine"),
        (PublishedPolicy(DOMAIN, p="quarantine", pct=25), "quarantine", "v=DMARC1; p=quarantine"),
        (PublishedPolicy(DOMAIN, p="quarantine", pct=100), "reject", "v=DMARC1; p=reject"),
        (PublishedPolicy(DOMAIN, p="reject", testing="y"), "reject", "v=DMARC1; p=reject"),
        (PublishedPolicy(DOMAIN, p="reject", testing="n"), None, ""),
        (PublishedPolicy(DOMAIN, p="bogus"), "quarantine", "v=DMARC1; p=quarantine"),
        (
            PublishedPolicy(DOMAIN, p="none", sp="reject", np="reject", adkim="s", aspf="r", fo="1"),
            "quarantine",
            "v=DMARC1; p=quarantine; sp=reject; adkim=s; fo=1",
        ),
        (
            PublishedPolicy(DOMAIN, p="quarantine", sp="quarantine", np="none", adkim="r", aspf="s"),
            "reject",
            "v=DMARC1; p=reject; np=none; aspf=s",
        ),
    ],
)
def test_policy_steps_and_records(policy: PublishedPolicy, step: str | None, record: str) -> None:
    assert next_policy(policy) == step
    if step is not None:
        assert record_for(policy, step) == record


def test_results_serialise_and_round_trip(store: Store) -> None:
    result = readiness(store, DOMAIN, 30, NOW, REVERSE)
    data = to_jsonable(result)
    assert data["failing_sources"][0]["name"] == "SendGrid"
    assert data["sources"][0]["verdict"] == "aligned"
    assert data["sources"][0]["first_seen"] == "2026-10-02T00:00:00Z"
    assert from_jsonable(Readiness, data) == result
    overview = to_jsonable(summary(store, DOMAIN, 30, NOW))
    assert overview["daily"][0] == {
        "day": "2026-10-02",
        "volume": {
            "messages": 196,
            "dmarc_pass": 170,
            "dkim_aligned": 170,
            "spf_aligned": 160,
            "none": 191,
            "quarantine": 5,
            "reject": 0,
            "dmarc_pass_rate": 170 / 196,
            "dkim_aligned_rate": 170 / 196,
            "spf_aligned_rate": 160 / 196,
        },
    }
    assert overview["policy"]["p"] == "none"


def test_end_to_end_on_sqlite_and_postgresql(database_url: str) -> None:
    with open_filled(database_url) as store:
        overview = summary(store, DOMAIN, 30, NOW)
        found = readiness(store, DOMAIN, 30, NOW, REVERSE)
    assert (overview.total.messages, overview.total.dmarc_pass, overview.reporters) == (TOTAL, 4870, 2)
    assert [d.volume.messages for d in overview.daily[:2]] == [196, 196 - 1]
    assert overview.policy == POLICY
    assert [(s.name, s.verdict.value, s.messages) for s in found.sources] == [
        ("kuroneko.example", "aligned", 4570),
        ("SendGrid", "misaligned", 600),
        ("example.org", "forwarder", 303),
        ("203.0.113.1", "spoofing", 50),
        ("203.0.113.2", "spoofing", 50),
        ("203.0.113.3", "spoofing", 50),
        ("198.51.100.50", "unknown", 20),
    ]
    assert (found.sources[0].first_seen, found.sources[0].last_seen) == (START, LAST)
    assert (found.legitimate_failing, found.days_with_data, found.safe) == (603, 30, False)
