"""The monitor: scan each organisation when its schedule says, evaluate the alert rules on every new
complete scan, deliver the alerts; until stopped.

Everything it decides is in the store, so it can stop at any moment and start again: a scan cut short
stays failed (or is failed as stale), a complete scan whose rules were not yet run is evaluated by the
next cycle (also one made by ``mimawari scan --org``), and an alert not yet delivered is retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from mimawari.config import Config
from mimawari.errors import MimawariError
from mimawari.monitor.notify import NotifyError, send
from mimawari.monitor.rules import ScanView, Situation, conditions
from mimawari.monitor.schedule import parse_interval
from mimawari.scan import DomainReport
from mimawari.store import Organisation, ScanRecord, ScanStatus, Store
from mimawari.store.alerts import StoredAlert
from mimawari.store.recording import stored

log = logging.getLogger(__name__)

Scanner = Callable[[Sequence[str]], AsyncIterator[DomainReport]]
"""Scans domains and yields their reports: the CLI builds it from its network options, a fresh network
(and DNS cache) per call, since a monitor's scans are days apart."""
Clock = Callable[[], datetime]
EARLIER_SCANS = 3
"""Earlier scans a rule may look back through for a value the last one could not determine."""
IDLE = timedelta(seconds=60)
"""The longest the monitor sleeps: a new organisation or a manual scan is noticed within a minute."""


@dataclass(frozen=True)
class ScanOutcome:
    organisation: str
    scan_id: int
    status: ScanStatus
    error: str = ""


@dataclass(frozen=True)
class DeliveryOutcome:
    alert: str
    """The alert's title in English."""
    notifier: str
    error: str = ""
    """Empty when delivered."""


@dataclass
class Cycle:
    """What one pass of the monitor did."""

    stale: int = 0
    scans: list[ScanOutcome] = field(default_factory=list)
    alerts: list[StoredAlert] = field(default_factory=list)
    deliveries: list[DeliveryOutcome] = field(default_factory=list)


class Monitor:
    def __init__(
        self, store: Store, config: Config, scanner: Scanner, clock: Clock = lambda: datetime.now(UTC)
    ) -> None:
        self.store = store
        self.config = config
        self.scanner = scanner
        self.clock = clock

    # --- scheduling ---------------------------------------------------------------------------------------

    def next_due(self, organisation: Organisation, now: datetime) -> datetime:
        schedule = self.config.monitor.schedule_for(organisation)
        return schedule.next_run(self.store.last_started(organisation.name), now)

    def due(self) -> list[Organisation]:
        now = self.clock()
        return [o for o in self.store.list_organisations() if o.domains and self.next_due(o, now) <= now]

    async def scan(self, organisation: Organisation) -> ScanOutcome:
        """Scan and store one organisation; a failure is stored with its reason, never raised."""
        scan_id = self.store.begin_scan(organisation.name)
        try:
            async for _ in stored(self.scanner(organisation.domains), self.store, organisation.name, scan_id):
                pass
        except (MimawariError, OSError) as error:
            log.warning("scan of %s failed: %s", organisation.name, error)
            return ScanOutcome(organisation.name, scan_id, ScanStatus.FAILED, str(error))
        return ScanOutcome(organisation.name, scan_id, ScanStatus.COMPLETE)

    # --- alerts -------------------------------------------------------------------------------------------

    def _view(self, record: ScanRecord) -> ScanView:
        reports = {t.domain: self.store.load_report(record.id, t.domain) for t in record.targets}
        return ScanView(record, reports)

    def evaluate(self, organisation: str, scan_id: int) -> list[StoredAlert]:
        """Run the rules on a complete scan and store what they found; the alerts newly raised."""
        found = self.store.get_organisation(organisation)
        rules = [r for r in self.config.alerts.rules if r.matches(found)]
        history = self.store.scans(organisation)
        position = next(i for i, scan in enumerate(history) if scan.id == scan_id)
        earlier = history[max(0, position - EARLIER_SCANS) : position][::-1]
        situation = Situation(
            found,
            self._view(history[position]),
            [self._view(s) for s in earlier] if rules else [],
            self.clock(),
        )
        return self.store.alerts.apply(
            scan_id,
            {rule.name: conditions(rule, situation) for rule in rules},
            {rule.name: self.config.alerts.notifiers_of(rule) for rule in rules},
            situation.now,
        )

    async def deliver(self) -> list[DeliveryOutcome]:
        """Send every delivery that is due; failures are retried later (``store.alerts.failed``)."""
        notifiers = {n.name: n for n in self.config.alerts.notifiers}
        outcomes = []
        for delivery_id, name, alert in self.store.alerts.due(self.clock()):
            notifier = notifiers.get(name)
            try:
                if notifier is None:
                    raise NotifyError(f"notifier {name!r} is no longer in the configuration")
                await send(notifier, alert)
            except NotifyError as error:
                self.store.alerts.failed(delivery_id, str(error), self.clock())
                outcomes.append(DeliveryOutcome(alert.title.en, name, str(error)))
                continue
            self.store.alerts.delivered(delivery_id, self.clock())
            outcomes.append(DeliveryOutcome(alert.title.en, name))
        return outcomes

    # --- the loop -----------------------------------------------------------------------------------------

    async def cycle(self) -> Cycle:
        """One pass: fail stale scans, scan what is due (``concurrency`` at once), evaluate, deliver."""
        done = Cycle(stale=self.store.fail_stale_scans(parse_interval(self.config.monitor.stale_after)))
        gate = asyncio.Semaphore(self.config.monitor.concurrency)

        async def one(organisation: Organisation) -> ScanOutcome:
            async with gate:
                return await self.scan(organisation)

        done.scans = list(await asyncio.gather(*(one(o) for o in self.due())))
        for organisation, scan_id in self.store.alerts.unevaluated():
            done.alerts += self.evaluate(organisation, scan_id)
        done.deliveries = await self.deliver()
        return done

    def sleep_time(self) -> float:
        """Seconds until the next organisation is due, at most ``IDLE``."""
        now = self.clock()
        upcoming = [self.next_due(o, now) for o in self.store.list_organisations() if o.domains]
        wait = min([IDLE, *(moment - now for moment in upcoming)])
        return max(wait.total_seconds(), 1.0)

    async def run(self, stop: asyncio.Event, on_cycle: Callable[[Cycle], None] = lambda c: None) -> None:
        """Cycle until ``stop`` is set; a cycle in progress finishes its scans first."""
        while not stop.is_set():
            on_cycle(await self.cycle())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.sleep_time())
