"""The DMARC side of the store (``store.dmarc``): reports written once and whole, read back for analytics.

Each ``add_*`` runs in one transaction. An aggregate report's records arrive as an iterator straight from
the streaming parser and are inserted in batches; if the parser finds the document broken half-way
(``ReportError``), the transaction is rolled back and nothing of the report remains. A report already
stored (same unique key) is still read to the end (a broken copy is rejected) and counts as a duplicate.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from mimawari.dmarc.model import (
    AggregateHeader,
    AggregateRecord,
    DkimResult,
    FailureReport,
    Outcome,
    Stored,
    TlsReport,
)
from mimawari.model import TlsReportSummary
from mimawari.parse.names import organizational_domain
from mimawari.serial import to_jsonable
from mimawari.store.dmarc_models import (
    AggregateRecordRow,
    AggregateReportRow,
    FailureReportRow,
    TlsPolicyRow,
    TlsReportRow,
)

BATCH = 5000
"""Records inserted per statement: large enough to be fast, small enough to keep memory flat."""


class _Transactions(Protocol):
    def _transaction(self, conflict: str = "") -> AbstractContextManager[Session]: ...


def _aligned(domain: str, header_from: str) -> bool:
    """Relaxed alignment (RFC 7489 §3.1): the same organisational domain."""
    return bool(domain) and organizational_domain(domain) == organizational_domain(header_from)


def speaking_dkim(record: AggregateRecord) -> DkimResult | None:
    """The DKIM result that speaks for the record: a pass aligned with the From domain, else any pass,
    else the first; None when the message was not signed."""
    results = record.dkim_results
    passing = [r for r in results if r.result == "pass"]
    aligned = [r for r in passing if _aligned(r.domain, record.header_from)]
    return next(iter(aligned or passing or results), None)


def _record_row(report_id: int, record: AggregateRecord) -> dict[str, Any]:
    dkim = speaking_dkim(record)
    spf = next((r for r in record.spf_results if r.scope in ("", "mfrom")), None)
    return {
        "report_id": report_id,
        "source_ip": record.source_ip,
        "count": record.count,
        "disposition": record.disposition,
        "dkim": record.dkim,
        "spf": record.spf,
        "header_from": record.header_from,
        "envelope_from": record.envelope_from,
        "envelope_to": record.envelope_to,
        "dkim_domain": dkim.domain if dkim else "",
        "dkim_selector": dkim.selector if dkim else "",
        "dkim_result": dkim.result if dkim else "",
        "spf_domain": spf.domain if spf else "",
        "spf_result": spf.result if spf else "",
        "details": {
            "dkim": [asdict(r) for r in record.dkim_results],
            "spf": [asdict(r) for r in record.spf_results],
            "reasons": [asdict(r) for r in record.reasons],
        },
    }


def _now() -> datetime:
    return datetime.now(UTC)


class DmarcLedger:
    def __init__(self, store: _Transactions) -> None:
        self._store = store

    def add_aggregate(
        self, header: AggregateHeader, records: Iterable[AggregateRecord], origin: str
    ) -> Stored:
        key = {
            "org_name": header.org_name,
            "report_id": header.report_id,
            "domain": header.policy.domain,
            "begin": header.begin,
            "end": header.end,
        }
        with self._store._transaction() as session:
            if session.scalar(select(AggregateReportRow.id).filter_by(**key)) is not None:
                # Read to the end all the same: a broken copy of a stored report is rejected, not "seen".
                count = messages = 0
                for record in records:
                    count, messages = count + 1, messages + record.count
                return Stored(Outcome.DUPLICATE, count, messages)
            report = AggregateReportRow(
                **key,
                email=header.email,
                version=header.version,
                policy=asdict(header.policy),
                extra={
                    "extra_contact_info": header.extra_contact_info,
                    "generator": header.generator,
                    "errors": list(header.errors),
                },
                origin=origin,
                ingested_at=_now(),
                records=0,
                messages=0,
            )
            session.add(report)
            session.flush()
            count = messages = 0
            batch: list[dict[str, Any]] = []
            for record in records:  # a ReportError here rolls the whole report back
                batch.append(_record_row(report.id, record))
                count, messages = count + 1, messages + record.count
                if len(batch) >= BATCH:
                    session.execute(insert(AggregateRecordRow), batch)
                    batch = []
            if batch:
                session.execute(insert(AggregateRecordRow), batch)
            report.records, report.messages = count, messages
            return Stored(Outcome.STORED, count, messages)

    def add_failure(self, report: FailureReport, origin: str) -> Stored:
        with self._store._transaction() as session:
            if session.scalar(select(FailureReportRow.id).filter_by(key=report.key)) is not None:
                return Stored(Outcome.DUPLICATE)
            session.add(
                FailureReportRow(
                    key=report.key,
                    reporter=report.reporter,
                    reported_domain=report.reported_domain,
                    arrival_date=report.arrival_date,
                    source_ip=report.source_ip,
                    auth_failure=report.auth_failure,
                    report=to_jsonable(report),
                    origin=origin,
                    ingested_at=_now(),
                )
            )
            return Stored(Outcome.STORED, 1, 1)

    def add_tls(self, report: TlsReport, origin: str) -> Stored:
        key = {"organization_name": report.organization_name, "report_id": report.report_id}
        with self._store._transaction() as session:
            if session.scalar(select(TlsReportRow.id).filter_by(**key)) is not None:
                return Stored(Outcome.DUPLICATE)
            row = TlsReportRow(
                **key,
                begin=report.begin,
                end=report.end,
                contact_info=report.contact_info,
                origin=origin,
                ingested_at=_now(),
            )
            row.policies = [
                TlsPolicyRow(
                    policy_type=p.policy_type,
                    policy_domain=p.policy_domain,
                    successful_sessions=p.successful_sessions,
                    failed_sessions=p.failed_sessions,
                    details={
                        "policy_strings": list(p.policy_strings),
                        "mx_hosts": list(p.mx_hosts),
                        "failures": [asdict(f) for f in p.failures],
                    },
                )
                for p in report.policies
            ]
            session.add(row)
            sessions = sum(p.successful_sessions + p.failed_sessions for p in report.policies)
            return Stored(Outcome.STORED, len(report.policies), sessions)

    # --- reading ------------------------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """How many reports of each kind are stored (for the CLI's summary line and the tests)."""
        with self._store._transaction() as session:
            return {
                "aggregate": session.scalar(select(func.count(AggregateReportRow.id))) or 0,
                "records": session.scalar(select(func.count(AggregateRecordRow.id))) or 0,
                "failure": session.scalar(select(func.count(FailureReportRow.id))) or 0,
                "smtp_tls": session.scalar(select(func.count(TlsReportRow.id))) or 0,
            }

    def dkim_selectors(self, domain: str) -> list[str]:
        """The DKIM selectors reports saw signing for ``domain`` (its own d=), most used first."""
        query = (
            select(AggregateRecordRow.dkim_selector, func.sum(AggregateRecordRow.count))
            .where(AggregateRecordRow.dkim_domain == domain, AggregateRecordRow.dkim_selector != "")
            .group_by(AggregateRecordRow.dkim_selector)
            .order_by(func.sum(AggregateRecordRow.count).desc(), AggregateRecordRow.dkim_selector)
        )
        with self._store._transaction() as session:
            return [selector for selector, _ in session.execute(query)]

    def rows(self, domain: str, since: datetime) -> Iterator[tuple[Any, ...]]:
        """Every aggregate record about ``domain`` in reports ending after ``since``, grouped by what the
        analytics need: (day, source_ip, header_from, disposition, dkim, spf, dkim_domain, dkim_selector,
        dkim_result, spf_domain, spf_result, messages, first, last)."""
        day = func.date(AggregateReportRow.begin)
        grouped = (
            AggregateRecordRow.source_ip,
            AggregateRecordRow.header_from,
            AggregateRecordRow.disposition,
            AggregateRecordRow.dkim,
            AggregateRecordRow.spf,
            AggregateRecordRow.dkim_domain,
            AggregateRecordRow.dkim_selector,
            AggregateRecordRow.dkim_result,
            AggregateRecordRow.spf_domain,
            AggregateRecordRow.spf_result,
        )
        query = (
            select(
                day,
                *grouped,
                func.sum(AggregateRecordRow.count),
                func.min(AggregateReportRow.begin),
                func.max(AggregateReportRow.end),
            )
            .join(AggregateReportRow, AggregateReportRow.id == AggregateRecordRow.report_id)
            .where(AggregateReportRow.domain == domain, AggregateReportRow.end >= since)
            .group_by(day, *grouped)
        )
        with self._store._transaction() as session:
            yield from (tuple(row) for row in session.execute(query))

    def latest_policy(self, domain: str) -> dict[str, Any] | None:
        """The ``policy_published`` of the newest report about ``domain``."""
        query = (
            select(AggregateReportRow.policy)
            .where(AggregateReportRow.domain == domain)
            .order_by(AggregateReportRow.end.desc(), AggregateReportRow.id.desc())
            .limit(1)
        )
        with self._store._transaction() as session:
            return session.scalar(query)

    def tls_summary(self, domain: str, days: int, now: datetime) -> TlsReportSummary | None:
        """What the SMTP TLS reports about ``domain`` whose period ended in the last ``days`` days say;
        None when there is none."""
        query = (
            select(TlsReportRow.organization_name, TlsPolicyRow)
            .join(TlsReportRow, TlsReportRow.id == TlsPolicyRow.report_id)
            .where(TlsPolicyRow.policy_domain == domain, TlsReportRow.end >= now - timedelta(days=days))
        )
        reports: set[int] = set()
        reporters: set[str] = set()
        kinds: set[str] = set()
        good = bad = 0
        failures: Counter[str] = Counter()
        hosts: Counter[str] = Counter()
        with self._store._transaction() as session:
            for reporter, policy in session.execute(query):
                reports.add(policy.report_id)
                reporters.add(reporter)
                kinds.add(policy.policy_type)
                good, bad = good + policy.successful_sessions, bad + policy.failed_sessions
                for failure in policy.details.get("failures", []):
                    sessions = int(failure.get("failed_sessions", 0))
                    failures[str(failure.get("result_type", ""))] += sessions
                    if failure.get("receiving_mx_hostname"):
                        hosts[str(failure["receiving_mx_hostname"])] += sessions
        if not reports:
            return None
        return TlsReportSummary(
            days=days,
            reports=len(reports),
            reporters=tuple(sorted(reporters)),
            successful_sessions=good,
            failed_sessions=bad,
            failures=tuple(failures.most_common()),
            mx_hosts=tuple(hosts.most_common()),
            policy_types=tuple(sorted(kinds)),
        )
