"""SMTP TLS reports (RFC 8460) as an observation: what senders said about their sessions with the MX hosts.

Nothing is asked on the network: the reports were ingested into the store beforehand, and whoever starts
the scan (``scan --org``, ``monitor``) puts their summary in ``Target.tls_reports``. The plan hands it on
with the domain, so a snapshot replays to the same observation: the summary travels in its target.
"""

from __future__ import annotations

from dataclasses import dataclass

from mimawari.lookup import Plan
from mimawari.model import Target, TlsReportSummary
from mimawari.observations import Observer


@dataclass(frozen=True)
class TlsReportsObservation:
    """``summary`` is None when the scan was given no TLS report data for ``domain``."""

    domain: str
    summary: TlsReportSummary | None = None


def tls_reports_plan(target: Target) -> Plan[TlsReportsObservation]:
    # A plan is a generator; this one has nothing to ask, so it yields nothing and returns at once.
    yield from ()
    return TlsReportsObservation(target.domain, target.tls_reports)


TLS_REPORTS = Observer("tls_reports", tls_reports_plan)
