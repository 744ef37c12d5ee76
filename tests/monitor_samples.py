"""Reports for the monitor's tests: lab scans with chosen checks, and the same reports with timeouts."""

from __future__ import annotations

from collections.abc import Sequence

from mimawari.check import Registry
from mimawari.lab import Lab
from mimawari.lookup import DnsAnswer, Query
from mimawari.model import Status
from mimawari.probes import ServiceSession, TlsScan
from mimawari.scan import DomainReport, evaluate_snapshot, scan_domains


async def scan_lab(text: str, domains: Sequence[str], checks: Registry) -> dict[str, DomainReport]:
    """Scan ``domains`` against a lab made from ``text`` (its own ports and CA), by domain."""
    async with Lab.from_yaml(text) as lab:
        reports = await scan_domains(list(domains), lab.network(probe_timeout=1.0), checks)
    return {r.domain: r for r in reports}


def timed_out(
    report: DomainReport, checks: Registry, *endpoints: tuple[str, int], dns: tuple[Query, ...] = ()
) -> DomainReport:
    """The report as if the sessions with ``endpoints`` (host, port) and the ``dns`` queries had timed out:
    its snapshot patched and evaluated again, with no network."""
    snapshot = report.snapshot
    sessions = [
        ServiceSession(s.request, Status.TIMEOUT, "no answer within 1 s")
        for s in snapshot.services
        if (s.request.host, s.request.port) in endpoints
    ]
    scans = [
        TlsScan(s.request, Status.TIMEOUT)
        for s in snapshot.tls
        if (s.request.host, s.request.port) in endpoints
    ]
    answers = [DnsAnswer(query, Status.TIMEOUT, detail="no answer") for query in dns]
    return evaluate_snapshot(snapshot.patched(*sessions, *scans, *answers), checks)
