"""``mimawari monitor``, ``alerts`` and ``portfolio``: watching organisations over time."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text as RichText

from mimawari.cli_console import ListFormat, ListFormatOption, out, until_terminated, user_errors
from mimawari.cli_options import (
    AllowPrivateOption,
    AttemptsOption,
    CaFileOption,
    CategoryOption,
    LabOption,
    NameserverOption,
    PortMapOption,
    ProbeTimeoutOption,
    TimeoutOption,
    TrustAnchorOption,
    checks_of,
    network_from,
)
from mimawari.cli_org import DatabaseOption, opened
from mimawari.config import load_config
from mimawari.dmarc.feed import enriched
from mimawari.model import Target
from mimawari.monitor.portfolio import PortfolioEntry, portfolio
from mimawari.monitor.runner import Cycle, Monitor
from mimawari.options import read_trust_anchors
from mimawari.report.document import points
from mimawari.report.terminal import CATEGORY_NAMES, badge
from mimawari.scan import DomainReport, iter_scans
from mimawari.store import Relation


def _when(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def monitor(
    once: Annotated[
        bool, typer.Option("--once", help="One pass (scan what is due, evaluate, deliver), then exit.")
    ] = False,
    nameserver: NameserverOption = None,
    timeout: TimeoutOption = 2.0,
    attempts: AttemptsOption = 2,
    trust_anchor: TrustAnchorOption = None,
    ca_file: CaFileOption = None,
    port_map: PortMapOption = None,
    allow_private: AllowPrivateOption = False,
    lab: LabOption = None,
    probe_timeout: ProbeTimeoutOption = 10.0,
    category: CategoryOption = None,
    database: DatabaseOption = None,
) -> None:
    """Scan organisations on their schedules, raise alerts on changes and deliver them, until stopped."""
    with user_errors():
        config = load_config()
        anchors = read_trust_anchors(trust_anchor) if trust_anchor else ()
        checks = checks_of(category)
        network_from(nameserver, timeout, attempts, ca_file, port_map, allow_private, lab, probe_timeout)

        with opened(database) as store:

            def scanner(domains: Sequence[str]) -> AsyncIterator[DomainReport]:
                # A fresh network per scan: its DNS cache must not carry answers from one day to the next.
                network, lab_anchors = network_from(
                    nameserver, timeout, attempts, ca_file, port_map, allow_private, lab, probe_timeout
                )
                now = datetime.now(UTC)
                targets = [enriched(Target(d, (), anchors or lab_anchors), store, now) for d in domains]
                return iter_scans(targets, network, checks)

            watcher = Monitor(store, config, scanner)
            _print_schedules(watcher)
            if once:
                _print_cycle(asyncio.run(watcher.cycle()))
                return
            out.print("monitoring; Ctrl-C to stop", markup=False)
            asyncio.run(_serve(watcher))


async def _serve(watcher: Monitor) -> None:
    """Run until SIGTERM (exit 0) or Ctrl-C (exit 130); either way a scan in progress is cancelled and
    stored as failed, never left running."""
    await until_terminated(watcher.run(asyncio.Event(), _print_cycle))
    out.print("stopped", markup=False)


def _print_schedules(watcher: Monitor) -> None:
    organisations = [o for o in watcher.store.list_organisations() if o.domains]
    if not organisations:
        out.print("no organisation to monitor: add one with mimawari org add", markup=False)
    for organisation in organisations:
        schedule = watcher.config.monitor.schedule_for(organisation)
        now = watcher.clock()
        due = watcher.next_due(organisation, now)
        when = "due now" if due <= now else f"next {_when(due)}"
        out.print(f"{organisation.name}: {schedule.describe()}, {when}", markup=False)


def _log(line: str) -> None:
    """One event of the monitor: never wrapped, so that a log file keeps one line per event."""
    out.print(line, markup=False, soft_wrap=True, highlight=False)


def _print_cycle(cycle: Cycle) -> None:
    now = _when(datetime.now(UTC))
    if cycle == Cycle():
        _log(f"{now}  nothing due")
    if cycle.stale:
        _log(f"{now}  {cycle.stale} interrupted scan(s) marked failed")
    for scan in cycle.scans:
        detail = f": {scan.error}" if scan.error else ""
        _log(f"{now}  scan {scan.scan_id} of {scan.organisation}: {scan.status.value}{detail}")
    for stored in cycle.alerts:
        alert = stored.alert
        targets = ", ".join(d.notifier for d in stored.deliveries) or "no notifier"
        _log(f"{now}  alert [{alert.severity.value}] {alert.title.en} → {targets}")
    for delivery in cycle.deliveries:
        if delivery.error:
            _log(
                f"{now}  not delivered to {delivery.notifier} (will retry): {delivery.alert}: {delivery.error}"
            )
        else:
            _log(f"{now}  delivered to {delivery.notifier}: {delivery.alert}")


def alerts(
    organisation: Annotated[
        str | None, typer.Option("--org", metavar="NAME", help="Only this organisation's alerts.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="How many, newest first.")] = 50,
    output_format: ListFormatOption = ListFormat.TEXT,
    database: DatabaseOption = None,
) -> None:
    """The alerts raised, newest first, and where each was delivered."""
    with user_errors(), opened(database) as store:
        if organisation is not None:
            store.get_organisation(organisation)
        raised = store.alerts.recent(organisation, limit)
        if output_format is ListFormat.JSON:
            document = [
                {
                    "id": a.id,
                    "organisation": a.alert.organisation,
                    "rule": a.alert.rule,
                    "kind": a.alert.kind.value,
                    "severity": a.alert.severity.value,
                    "domain": a.alert.domain,
                    "scan_id": a.alert.scan_id,
                    "raised_at": a.alert.raised_at.isoformat(),
                    "title": a.alert.title.en,
                    "deliveries": [
                        {
                            "notifier": d.notifier,
                            "status": d.status.value,
                            "attempts": d.attempts,
                            "error": d.last_error,
                        }
                        for d in a.deliveries
                    ],
                }
                for a in raised
            ]
            out.print_json(json.dumps(document, ensure_ascii=False))
            return
        if not raised:
            out.print("no alert has been raised", markup=False)
            return
        table = Table("raised", "severity", "alert", "delivered", box=None)
        for stored in raised:
            delivered = ", ".join(f"{d.notifier} {d.status.value}" for d in stored.deliveries) or "—"
            table.add_row(
                _when(stored.alert.raised_at), stored.alert.severity.value, stored.alert.title.en, delivered
            )
        out.print(table)


def portfolio_command(
    relation: Annotated[Relation | None, typer.Option(help="Only this relation.")] = None,
    tag: Annotated[str | None, typer.Option(metavar="TAG", help="Only organisations with this tag.")] = None,
    output_format: ListFormatOption = ListFormat.TEXT,
    database: DatabaseOption = None,
) -> None:
    """Every organisation ranked by score, lowest first, with its weakest categories and recent change."""
    with user_errors(), opened(database) as store:
        entries = portfolio(store, relation, tag)
        if output_format is ListFormat.JSON:
            out.print_json(json.dumps([_entry_json(e) for e in entries], ensure_ascii=False))
            return
        if not entries:
            filtered = relation is not None or tag is not None
            hint = "none matches the filter" if filtered else "add one with mimawari org add"
            out.print(f"no organisation: {hint}", markup=False)
            return
        table = Table(
            "#", "organisation", "relation", "score", "change", "weakest", "worst domain", "scanned", box=None
        )
        for rank, e in enumerate(entries, 1):
            table.add_row(
                str(rank),
                e.organisation.name,
                e.organisation.relation.value,
                RichText.assemble(badge(e.grade), f" {points(e.score)}"),
                _change(e.change),
                ", ".join(f"{CATEGORY_NAMES[c].en} {g.value}" for c, g in e.worst_categories) or "—",
                f"{e.worst_domain[0]} {e.worst_domain[1]:.1f}" if e.worst_domain else "—",
                _when(e.latest.started_at) if e.latest else "never",
            )
        out.print(table)


def _change(change: float | None) -> RichText:
    if change is None:
        return RichText("—")
    if change == 0:
        return RichText("±0")
    return RichText(f"{change:+.1f}", style="green" if change > 0 else "red")


def _entry_json(e: PortfolioEntry) -> dict[str, Any]:
    return {
        "organisation": e.organisation.name,
        "relation": e.organisation.relation.value,
        "criticality": e.organisation.criticality.value,
        "tags": list(e.organisation.tags),
        "score": e.score,
        "grade": e.grade.value if e.grade is not None else None,
        "change": e.change,
        "worst_categories": [{"category": c.value, "grade": g.value} for c, g in e.worst_categories],
        "worst_domain": {"domain": e.worst_domain[0], "score": e.worst_domain[1]} if e.worst_domain else None,
        "scan_id": e.latest.id if e.latest else None,
        "scanned_at": e.latest.started_at.isoformat() if e.latest else None,
        "previous_scan_id": e.previous.id if e.previous else None,
    }
