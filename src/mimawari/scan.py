"""Scanning: run every check's observation plan for a domain, then evaluate the checks.

``scan_domains`` is the async API; ``scan`` is ``asyncio.run`` over it (no mirrored sync code).
``evaluate_snapshot`` re-evaluates a recorded snapshot with no network, the base of tests and what-if.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mimawari.check import Registry
from mimawari.checks import ALL_CHECKS
from mimawari.lookup import DnsAnswer, Query, Snapshot, replay
from mimawari.model import Finding
from mimawari.observations import Observer
from mimawari.observe import DnsClient, Nameserver, run_plan
from mimawari.parse.names import normalize_domain


@dataclass(frozen=True)
class DomainReport:
    """One domain's scan: the raw snapshot, the findings, and the observations derived from it."""

    domain: str
    snapshot: Snapshot
    findings: tuple[Finding, ...]
    observations: Mapping[str, Any] = field(default_factory=dict)


def _observers(checks: Registry) -> list[Observer[Any]]:
    return list(dict.fromkeys(check.observer for check in checks.values()))


def _report(domain: str, snapshot: Snapshot, observations: dict[str, Any], checks: Registry) -> DomainReport:
    findings = tuple(check.finding(domain, observations[check.observer.name]) for check in checks.values())
    return DomainReport(domain, snapshot, findings, observations)


async def scan_domain(domain: str, client: DnsClient, checks: Registry = ALL_CHECKS) -> DomainReport:
    recorded: dict[Query, DnsAnswer] = {}
    observers = _observers(checks)
    results = await asyncio.gather(*(run_plan(o.plan(domain), client, recorded) for o in observers))
    observations = {o.name: result for o, result in zip(observers, results, strict=True)}
    snapshot = Snapshot(domain, tuple(sorted(recorded.values(), key=lambda a: a.query)))
    return _report(domain, snapshot, observations, checks)


def evaluate_snapshot(snapshot: Snapshot, checks: Registry = ALL_CHECKS) -> DomainReport:
    """Evaluate ``checks`` on a recorded snapshot; queries it lacks count as errors, never as absent."""
    observations = {o.name: replay(o.plan(snapshot.target), snapshot) for o in _observers(checks)}
    return _report(snapshot.target, snapshot, observations, checks)


async def scan_domains(
    domains: Iterable[str],
    client: DnsClient,
    checks: Registry = ALL_CHECKS,
    on_done: Callable[[DomainReport], None] | None = None,
) -> list[DomainReport]:
    """Scan many domains concurrently (the client bounds the queries in flight), in input order.

    Domains are validated first (``InvalidDomainError``) and the nameservers probed once
    (``NameserverUnreachableError``), so a bad set-up fails in one line instead of N unknown grades.
    """
    names = list(dict.fromkeys(normalize_domain(d) for d in domains))
    await client.ensure_reachable()

    async def one(name: str) -> DomainReport:
        report = await scan_domain(name, client, checks)
        if on_done is not None:
            on_done(report)
        return report

    return list(await asyncio.gather(*(one(name) for name in names)))


def scan(
    domains: Iterable[str],
    nameservers: Sequence[Nameserver] | None = None,
    *,
    timeout: float = 2.0,
    attempts: int = 2,
    checks: Registry = ALL_CHECKS,
) -> list[DomainReport]:
    """Synchronous convenience: scan ``domains`` with a fresh client and return their reports."""

    async def run() -> list[DomainReport]:
        client = DnsClient(nameservers, timeout=timeout, attempts=attempts)
        return await scan_domains(domains, client, checks)

    return asyncio.run(run())
