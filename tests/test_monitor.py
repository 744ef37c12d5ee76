"""The monitor end to end, on SQLite and PostgreSQL: a lab organisation scanned on schedule while the test
changes its configuration between scans, alert rules evaluated, alerts delivered to a webhook, a Slack-style
receiver and the lab's SMTP sink — each alert exactly once per change.

``KEPT`` is the organisation in good order; ``DECAYED`` is the same a month later: DMARC dropped to
p=none and a second MX that relays for anyone appeared. Lab certificates are valid for 30 days, so the
``certificate_expiring`` rule (45 days) holds for every endpoint.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml

from mimawari.checks import ALL_CHECKS
from mimawari.config import Config
from mimawari.errors import NameserverUnreachableError
from mimawari.lab import Lab
from mimawari.lab.mail import MailLab, mail_from_document
from mimawari.model import Category, Grade
from mimawari.monitor.alert import AlertKind
from mimawari.monitor.assets import AssetKind
from mimawari.monitor.diff import diff_reports
from mimawari.monitor.portfolio import portfolio
from mimawari.monitor.runner import Cycle, Monitor
from mimawari.scan import DomainReport, iter_scans
from mimawari.store import Organisation, Relation, ScanStatus, Store, open_store
from mimawari.store.alerts import DeliveryStatus
from tests.http_receiver import HttpReceiver

CHECKS = {k: c for k, c in ALL_CHECKS.items() if c.observer.name in ("spf", "dmarc", "mx", "mta")}
KEPT = """
zones:
  watch.test:
    records:
      "@": {MX: 10 mx1.watch.test., TXT: "v=spf1 mx -all"}
      mx1: {A: 203.0.113.61}
      _dmarc: {TXT: "v=DMARC1; p=reject; rua=mailto:dmarc@watch.test"}
mail:
  servers:
    - {host: mx1.watch.test, addresses: [203.0.113.61], smtp: {}}
"""
DECAYED = """
zones:
  watch.test:
    records:
      "@": {MX: [10 mx1.watch.test., 20 mx2.watch.test.], TXT: "v=spf1 mx -all"}
      mx1: {A: 203.0.113.61}
      mx2: {A: 203.0.113.62}
      _dmarc: {TXT: "v=DMARC1; p=none; rua=mailto:dmarc@watch.test"}
mail:
  servers:
    - {host: mx1.watch.test, addresses: [203.0.113.61], smtp: {}}
    - {host: mx2.watch.test, addresses: [203.0.113.62], smtp: {open_relay: true}}
"""
SINK = """
mail:
  servers:
    - {host: sink.lab.example, addresses: [203.0.113.25], smtp: {starttls: false, local_domains: [example.org], users: [soc]}}
"""
MX1 = "mx1.watch.test [203.0.113.61]:25 smtp"
MX2 = "mx2.watch.test [203.0.113.62]:25 smtp"
RULES: list[dict[str, Any]] = [
    {"name": "floor", "kind": "score_below", "threshold": 70},
    {"name": "drop", "kind": "score_drop", "points": 5},
    {"name": "grades", "kind": "grade_drop"},
    {"name": "findings", "kind": "new_finding", "severity": "high"},
    {"name": "services", "kind": "new_service"},
    {"name": "certificates", "kind": "certificate_expiring", "days": 45},
    {"name": "dmarc", "kind": "dmarc_weakened"},
]
# What DECAYED raises against KEPT, by rule: one alert each, except the findings that became new.
DECAY = {
    "floor": {"watch.test"},
    "drop": {"watch.test@{scan}"},
    "grades": {"watch.test/email-mta@{scan}"},  # the open relay; p=none alone keeps the DNS letter
    "services": {MX2},
    "certificates": {MX2},
    "dmarc": {"watch.test@{scan}"},
}


class Organisation_Lab:
    """The lab the next scan sees; a new lab (own ports, own CA) each scan, as a month apart would be."""

    def __init__(self) -> None:
        self.yaml = KEPT
        self.running = 0
        self.most_running = 0

    async def scan(self, domains: Sequence[str]) -> AsyncIterator[DomainReport]:
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            async with Lab.from_yaml(self.yaml) as lab:
                async for report in iter_scans(domains, lab.network(probe_timeout=2.0), CHECKS):
                    yield report
        finally:
            self.running -= 1


class Clock:
    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    with open_store(database_url) as opened:
        opened.add_organisation(Organisation("Watch", Relation.SUPPLIER, domains=("watch.test",)))
        yield opened


@pytest.fixture
async def sink() -> AsyncIterator[MailLab]:
    async with MailLab(mail_from_document(yaml.safe_load(SINK))) as mail:
        yield mail


@pytest.fixture
async def receiver() -> AsyncIterator[HttpReceiver]:
    async with HttpReceiver() as server:
        yield server


def config(receiver: HttpReceiver, sink: MailLab, **monitor: Any) -> Config:
    host, port = sink.endpoint("203.0.113.25", 25)
    notifiers = [
        {"kind": "webhook", "name": "siem", "url": receiver.url("/hook")},
        {"kind": "slack", "name": "chat", "url": receiver.url("/slack"), "lang": "ja"},
        {
            "kind": "email",
            "name": "soc",
            "host": host,
            "port": port,
            "security": "none",
            "sender": "mimawari@example.org",
            "recipients": ["soc@example.org"],
        },
    ]
    return Config.model_validate({"monitor": monitor, "alerts": {"rules": RULES, "notifiers": notifiers}})


def raised(cycle: Cycle) -> dict[str, set[str]]:
    by_rule: dict[str, set[str]] = {}
    for stored in cycle.alerts:
        by_rule.setdefault(stored.alert.rule, set()).add(stored.alert.key)
    return by_rule


def expected_decay(scan_id: int) -> dict[str, set[str]]:
    return {rule: {key.format(scan=scan_id) for key in keys} for rule, keys in DECAY.items()}


async def test_alerts_fire_once_per_change_through_every_notifier(
    store: Store, receiver: HttpReceiver, sink: MailLab
) -> None:
    lab, clock = Organisation_Lab(), Clock()
    monitor = Monitor(store, config(receiver, sink), lab.scan, clock)

    first = await monitor.cycle()
    assert [(s.organisation, s.status) for s in first.scans] == [("Watch", ScanStatus.COMPLETE)]
    # The first scan is the baseline: nothing is "new" yet, but the certificate already expires soon.
    assert raised(first) == {"certificates": {MX1}}
    assert await monitor.cycle() == Cycle()  # every 24 h: not due again, nothing to evaluate or send

    lab.yaml = DECAYED
    clock.offset += timedelta(hours=25)
    decayed = await monitor.cycle()
    (scan,) = decayed.scans
    found = raised(decayed)
    new_findings = found.pop("findings")
    assert found == expected_decay(scan.scan_id)
    # p=none is a medium finding (a C): under the rule's "high"; the open relay is critical.
    assert new_findings == {"watch.test/email.mta.open_relay"}

    clock.offset += timedelta(hours=25)
    unchanged = await monitor.cycle()
    assert len(unchanged.scans) == 1 and unchanged.alerts == []

    lab.yaml = KEPT
    clock.offset += timedelta(hours=25)
    mended = await monitor.cycle()
    assert len(mended.scans) == 1 and mended.alerts == []  # improvements clear conditions silently

    lab.yaml = DECAYED
    clock.offset += timedelta(hours=25)
    again = await monitor.cycle()
    found = raised(again)
    assert found.pop("findings") == new_findings
    assert found == expected_decay(again.scans[0].scan_id)

    # Every alert went to each notifier once, and nothing else did.
    alerts = first.alerts + decayed.alerts + again.alerts
    assert all(d.error == "" for c in (first, decayed, unchanged, mended, again) for d in c.deliveries)
    hooks = [r.json() for r in receiver.requests if r.path == "/hook"]
    slack = [r.json() for r in receiver.requests if r.path == "/slack"]
    assert sorted(h["title"] for h in hooks) == sorted(a.alert.title.en for a in alerts)  # type: ignore[index]
    assert len(slack) == len(sink.messages) == len(alerts)
    for stored in store.alerts.recent(limit=1000):
        assert {(d.notifier, d.status, d.attempts) for d in stored.deliveries} == {
            ("siem", DeliveryStatus.SENT, 1),
            ("chat", DeliveryStatus.SENT, 1),
            ("soc", DeliveryStatus.SENT, 1),
        }

    # What an alert says: what changed and what to do, in the notifier's language.
    dmarc = next(h for h in hooks if h["kind"] == AlertKind.DMARC_WEAKENED)  # type: ignore[index]
    assert "p=reject" in dmarc["action"] and "_dmarc.watch.test" in dmarc["action"]  # type: ignore[index]
    relay = next(s for s in slack if "open_relay" in str(s) or "リレー" in str(s))
    assert relay["text"]  # type: ignore[index]
    mail = email.message_from_bytes(sink.messages[0].content, policy=email.policy.default)
    assert mail["Subject"].startswith("[mimawari] Watch: certificate of " + MX1)


async def test_a_notifier_that_fails_is_retried_and_delivers_once(
    store: Store, receiver: HttpReceiver, sink: MailLab
) -> None:
    clock, lab = Clock(), Organisation_Lab()
    settings = config(receiver, sink)
    receiver.status = 500
    monitor = Monitor(store, settings, lab.scan, clock)
    first = await monitor.cycle()
    failed = [d for d in first.deliveries if d.error]
    assert {d.notifier for d in failed} == {"siem", "chat"} and "500" in failed[0].error
    assert await monitor.deliver() == []  # not yet: the next attempt waits a minute

    receiver.status = 200
    clock.offset += timedelta(minutes=2)
    retried = await monitor.deliver()
    assert {(d.notifier, d.error) for d in retried} == {("siem", ""), ("chat", "")}
    clock.offset += timedelta(hours=1)
    assert await monitor.deliver() == []
    (stored,) = store.alerts.recent()
    assert {(d.notifier, d.status, d.attempts) for d in stored.deliveries} == {
        ("siem", DeliveryStatus.SENT, 2),
        ("chat", DeliveryStatus.SENT, 2),
        ("soc", DeliveryStatus.SENT, 1),
    }
    assert len(sink.messages) == 1


async def test_scans_run_at_most_concurrency_at_once_and_failures_are_kept(
    store: Store, receiver: HttpReceiver, sink: MailLab
) -> None:
    for name in ("Second", "Third"):
        store.add_organisation(Organisation(name, domains=("watch.test",)))
    lab = Organisation_Lab()
    monitor = Monitor(store, config(receiver, sink, concurrency=2), lab.scan)
    cycle = await monitor.cycle()
    assert sorted(s.organisation for s in cycle.scans) == ["Second", "Third", "Watch"]
    assert lab.most_running == 2

    async def unreachable(domains: Sequence[str]) -> AsyncIterator[DomainReport]:
        raise NameserverUnreachableError("nameserver 192.0.2.53 unreachable")
        yield  # pragma: no cover - makes this an async generator

    broken = Monitor(store, config(receiver, sink), unreachable, Clock())
    broken.clock = lambda: datetime.now(UTC) + timedelta(days=2)
    failed = await broken.cycle()
    assert {(s.status, s.error) for s in failed.scans} == {
        (ScanStatus.FAILED, "nameserver 192.0.2.53 unreachable")
    }
    assert failed.alerts == []
    assert [s.status for s in store.scans("Watch", complete_only=False)] == [
        ScanStatus.COMPLETE,
        ScanStatus.FAILED,
    ]


async def test_a_stale_running_scan_is_failed_and_the_loop_stops_when_asked(
    store: Store, receiver: HttpReceiver, sink: MailLab
) -> None:
    stale = store.begin_scan("Watch")  # a process that died mid-scan
    assert store.fail_stale_scans(timedelta(hours=6)) == 0
    assert store.fail_stale_scans(timedelta(hours=6), now=datetime.now(UTC) + timedelta(hours=7)) == 1
    (record,) = store.scans("Watch", complete_only=False)
    assert (record.id, record.status, record.error) == (
        stale,
        ScanStatus.FAILED,
        "interrupted: never finished",
    )

    stop, cycles = asyncio.Event(), []

    def seen(cycle: Cycle) -> None:
        cycles.append(cycle)
        stop.set()

    monitor = Monitor(
        store, config(receiver, sink), Organisation_Lab().scan, lambda: datetime.now(UTC) + timedelta(days=1)
    )
    await asyncio.wait_for(monitor.run(stop, seen), 60)
    assert len(cycles) == 1 and len(cycles[0].scans) == 1


async def test_history_diff_and_portfolio_follow_the_changes(
    store: Store, receiver: HttpReceiver, sink: MailLab
) -> None:
    store.add_organisation(Organisation("Never", Relation.GROUP, domains=("never.test",)))
    lab, clock = Organisation_Lab(), Clock()
    monitor = Monitor(store, config(receiver, sink), lab.scan, clock)
    await monitor.scan(store.get_organisation("Watch"))
    lab.yaml = DECAYED
    await monitor.scan(store.get_organisation("Watch"))

    first, second = store.scans("Watch")
    assert [t.domain for t in first.targets] == [t.domain for t in second.targets] == ["watch.test"]
    before, after = (store.load_report(s.id, "watch.test") for s in (first, second))
    changes = diff_reports({"watch.test": before}, {"watch.test": after})
    (domain,) = changes.domains
    assert [c.check_id for c in domain.new] == [
        "email.dmarc.policy",
        "email.dmarc.subdomain_policy",
        "email.mta.open_relay",
    ]
    assert [a.name for a in domain.added if a.kind is AssetKind.SERVICE] == [MX2]
    assert domain.dmarc_weakened
    # Each lab run has its own CA: mx1's certificate was reissued; nothing went away.
    assert domain.removed == () and [c.endpoint for c in domain.certificates] == [MX1]

    watch, never = portfolio(store)
    assert (never.organisation.name, never.score, never.latest) == ("Never", None, None)
    assert watch.latest == second and watch.previous == first
    assert watch.score == second.targets[0].score and watch.grade is not None
    assert watch.change is not None and watch.change < -5
    assert watch.worst_categories[0] == (Category.EMAIL_MTA, Grade.E)
    assert [e.organisation.name for e in portfolio(store, relation="group")] == ["Never"]
