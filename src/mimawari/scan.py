"""Scanning: run every check's observation plan for a target, then evaluate the checks.

``scan_domains`` is the async API; ``scan`` is ``asyncio.run`` over it (no mirrored sync code).
``evaluate_snapshot`` re-evaluates a recorded snapshot with no network, the base of tests and what-if.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from mimawari.check import Registry
from mimawari.checks import ALL_CHECKS
from mimawari.lookup import Response, Snapshot, replay
from mimawari.model import Finding, Target
from mimawari.observations import Observer
from mimawari.observe import DnsClient, HttpClient, Nameserver, Network, run_plan
from mimawari.parse.names import normalize_domain


@dataclass(frozen=True)
class DomainReport:
    """One target's scan: the raw snapshot, the findings, and the observations derived from it."""

    domain: str
    snapshot: Snapshot
    findings: tuple[Finding, ...]
    observations: Mapping[str, Any] = field(default_factory=dict)


def _observers(checks: Registry) -> list[Observer[Any]]:
    return list(dict.fromkeys(check.observer for check in checks.values()))


def _report(snapshot: Snapshot, observations: dict[str, Any], checks: Registry) -> DomainReport:
    domain = snapshot.target.domain
    findings = tuple(check.finding(domain, observations[check.observer.name]) for check in checks.values())
    return DomainReport(domain, snapshot, findings, observations)


async def scan_target(target: Target, network: Network, checks: Registry = ALL_CHECKS) -> DomainReport:
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


async def scan_domains(
    targets: Iterable[Target | str],
    network: Network,
    checks: Registry = ALL_CHECKS,
    on_done: Callable[[DomainReport], None] | None = None,
) -> list[DomainReport]:
    """Scan many targets concurrently (the clients bound what is in flight), in input order.

    Targets are validated first (``InvalidDomainError``) and the nameservers probed once
    (``NameserverUnreachableError``), so a bad set-up fails in one line instead of N unknown grades.
    """
    unique = list({t.domain: t for t in map(as_target, targets)}.values())
    await network.dns.ensure_reachable()

    async def one(target: Target) -> DomainReport:
        report = await scan_target(target, network, checks)
        if on_done is not None:
            on_done(report)
        return report

    return list(await asyncio.gather(*(one(target) for target in unique)))


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
