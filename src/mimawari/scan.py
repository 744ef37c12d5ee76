"""Scanning: run every check's observation plan for a target, then evaluate the checks.

``scan_domains`` is the async API; ``scan`` is ``asyncio.run`` over it (no mirrored sync code).
``evaluate_snapshot`` re-evaluates a recorded snapshot with no network, the base of tests and what-if.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import islice
from typing import Any

from mimawari.check import Registry
from mimawari.checks import ALL_CHECKS
from mimawari.lookup import Response, Snapshot, replay
from mimawari.model import Finding, Target
from mimawari.observations import Observer
from mimawari.observe import DnsClient, HttpClient, Nameserver, Network, Sender, run_plan
from mimawari.parse.names import normalize_domain
from mimawari.score import Priority, Score, check_severities, prioritise, score


@dataclass(frozen=True)
class DomainReport:
    """One target's scan: the raw snapshot, the findings, the observations derived from it, the rating
    and the findings that need action in the order to fix them (``score.prioritise``)."""

    domain: str
    snapshot: Snapshot
    findings: tuple[Finding, ...]
    observations: Mapping[str, Any] = field(default_factory=dict)
    score: Score | None = None
    priorities: tuple[Priority, ...] = ()


def _observers(checks: Registry) -> list[Observer[Any]]:
    return list(dict.fromkeys(check.observer for check in checks.values()))


def _report(snapshot: Snapshot, observations: dict[str, Any], checks: Registry) -> DomainReport:
    domain = snapshot.target.domain
    findings = tuple(check.finding(domain, observations[check.observer.name]) for check in checks.values())
    weights = check_severities(checks)
    rating, ranked = score(findings, weights), tuple(prioritise(findings, weights))
    return DomainReport(domain, snapshot, findings, observations, rating, ranked)


async def scan_target(target: Target, network: Sender, checks: Registry = ALL_CHECKS) -> DomainReport:
    target = replace(target, observed_at=target.observed_at or int(time.time()))
    recorded: list[Response] = []
    observers = _observers(checks)
    results = await asyncio.gather(*(run_plan(o.plan(target), network, recorded) for o in observers))
    observations = {o.name: result for o, result in zip(observers, results, strict=True)}
    return _report(Snapshot.of(target, recorded), observations, checks)


def evaluate_snapshot(snapshot: Snapshot, checks: Registry = ALL_CHECKS) -> DomainReport:
    """Evaluate ``checks`` on a recorded snapshot; requests it lacks count as errors, never as absent."""
    observations = {o.name: replay(o.plan(snapshot.target), snapshot) for o in _observers(checks)}
    return _report(snapshot, observations, checks)


def as_target(target: Target | str) -> Target:
    """A validated target: its domain normalised (``InvalidDomainError`` when it is not a domain)."""
    if isinstance(target, str):
        return Target(normalize_domain(target))
    return replace(target, domain=normalize_domain(target.domain))


WINDOW = 32
"""Targets scanned at once. Enough to keep the DNS client's queries in flight busy; small enough that
memory does not grow with the number of targets (a report is handed on as soon as it is done)."""


async def iter_scans(
    targets: Iterable[Target | str], network: Network, checks: Registry = ALL_CHECKS, *, window: int = WINDOW
) -> AsyncIterator[DomainReport]:
    """Scan targets concurrently and yield their reports in input order, at most ``window`` alive at once.

    Targets are validated first (``InvalidDomainError``) and the nameservers probed once
    (``NameserverUnreachableError``), so a bad set-up fails in one line instead of N unknown grades.
    """
    started = int(time.time())  # one moment for the whole scan: dates are judged alike for every target
    stamped = (replace(t, observed_at=t.observed_at or started) for t in map(as_target, targets))
    unique = iter({t.domain: t for t in stamped}.values())
    await network.dns.ensure_reachable()
    running = deque(asyncio.ensure_future(scan_target(t, network, checks)) for t in islice(unique, window))
    try:
        while running:
            report = await running.popleft()
            following = next(unique, None)
            if following is not None:
                running.append(asyncio.ensure_future(scan_target(following, network, checks)))
            yield report
    finally:
        for task in running:
            task.cancel()


async def scan_domains(
    targets: Iterable[Target | str],
    network: Network,
    checks: Registry = ALL_CHECKS,
    on_done: Callable[[DomainReport], None] | None = None,
) -> list[DomainReport]:
    """Every report of ``iter_scans`` in a list; use ``iter_scans`` when there are many targets."""
    reports = []
    async for report in iter_scans(targets, network, checks):
        if on_done is not None:
            on_done(report)
        reports.append(report)
    return reports


def scan(
    targets: Iterable[Target | str],
    nameservers: Sequence[Nameserver] | None = None,
    *,
    timeout: float = 2.0,
    attempts: int = 2,
    checks: Registry = ALL_CHECKS,
) -> list[DomainReport]:
    """Synchronous convenience: scan with fresh clients (public addresses only) and return the reports."""

    async def run() -> list[DomainReport]:
        network = Network(DnsClient(nameservers, timeout=timeout, attempts=attempts), HttpClient())
        return await scan_domains(targets, network, checks)

    return asyncio.run(run())
