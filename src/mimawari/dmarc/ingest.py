"""From documents to results: read each report a container found, and count it (``dmarc parse``) or store
it (``dmarc ingest``). Every problem becomes the document's ``error``; nothing raises out but a broken
store."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, BinaryIO

from mimawari.dmarc.aggregate import read_aggregate
from mimawari.dmarc.containers import Document, Unreadable, messages_documents
from mimawari.dmarc.failure import MAX_FAILURE_BYTES, parse_failure
from mimawari.dmarc.model import Outcome, ReportError, ReportKind, Stored
from mimawari.dmarc.tlsrpt import MAX_TLS_REPORT_BYTES, parse_tls_report

if TYPE_CHECKING:  # imported only by the commands that use them: dmarc parse starts faster
    from mimawari.dmarc.imap import ImapSource
    from mimawari.store import Store


@dataclass(frozen=True)
class ReportResult:
    """One report found: what ``dmarc parse --format json`` prints per line (and ``ingest`` stores)."""

    file: str
    kind: ReportKind | None
    ok: bool
    error: str = ""
    report_id: str = ""
    org_name: str = ""
    domain: str = ""
    begin: datetime | None = None
    end: datetime | None = None
    records: int = 0
    """Aggregate: its records; SMTP TLS: its policies; failure: 1."""
    messages: int = 0
    """Aggregate: the sum of the records' counts; SMTP TLS: the sessions; failure: 1."""
    stored: Outcome | None = None
    """``ingest`` only: stored, or a duplicate of a stored report."""


def _bounded(stream: BinaryIO, limit: int, what: str) -> bytes:
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise ReportError(f"{what} larger than {limit >> 20} MiB")
    return data


def read_report(document: Document, store: Store | None = None) -> ReportResult:
    """Parse one document; with ``store``, store it (in one transaction, or not at all)."""
    origin = document.origin
    try:
        with document.open() as stream:
            if document.kind is ReportKind.AGGREGATE:
                return _aggregate(origin, stream, store)
            if document.kind is ReportKind.FAILURE:
                failure = parse_failure(_bounded(stream, MAX_FAILURE_BYTES, "failure report"))
                stored = store.dmarc.add_failure(failure, origin) if store is not None else None
                return ReportResult(
                    origin,
                    ReportKind.FAILURE,
                    True,
                    report_id=failure.message_id or failure.key[:16],
                    org_name=failure.reporter,
                    domain=failure.reported_domain,
                    begin=failure.arrival_date,
                    end=failure.arrival_date,
                    records=1,
                    messages=1,
                    stored=stored.outcome if stored is not None else None,
                )
            tls = parse_tls_report(_bounded(stream, MAX_TLS_REPORT_BYTES, "SMTP TLS report"))
            stored = store.dmarc.add_tls(tls, origin) if store is not None else None
            domains = sorted({p.policy_domain for p in tls.policies})
            return ReportResult(
                origin,
                ReportKind.SMTP_TLS,
                True,
                report_id=tls.report_id,
                org_name=tls.organization_name,
                domain=", ".join(domains),
                begin=tls.begin,
                end=tls.end,
                records=len(tls.policies),
                messages=sum(p.successful_sessions + p.failed_sessions for p in tls.policies),
                stored=stored.outcome if stored is not None else None,
            )
    except ReportError as error:
        return ReportResult(origin, document.kind, False, error=str(error))
    except OSError as error:
        return ReportResult(origin, document.kind, False, error=f"cannot read: {error.strerror or error}")


def _aggregate(origin: str, stream: BinaryIO, store: Store | None) -> ReportResult:
    document = read_aggregate(stream)
    header = document.header
    if store is not None:
        stored: Stored = store.dmarc.add_aggregate(header, document.records(), origin)
        records, messages = stored.records, stored.messages
    else:
        stored = Stored(Outcome.STORED)
        records = messages = 0
        for record in document.records():
            records += 1
            messages += record.count
    return ReportResult(
        origin,
        ReportKind.AGGREGATE,
        True,
        report_id=header.report_id,
        org_name=header.org_name,
        domain=header.policy.domain,
        begin=header.begin,
        end=header.end,
        records=records,
        messages=messages,
        stored=stored.outcome if store is not None else None,
    )


def unreadable(found: Unreadable) -> ReportResult:
    return ReportResult(found.origin, None, False, error=found.error)


def read_all(found: Iterable[Document | Unreadable], store: Store | None = None) -> Iterator[ReportResult]:
    """Each document's result, in the order the containers found them."""
    for item in found:
        yield unreadable(item) if isinstance(item, Unreadable) else read_report(item, store)


def from_mailbox(source: ImapSource, store: Store) -> Iterator[ReportResult]:
    """Store the reports of each message of an IMAP folder; only then flag or move the message (a
    message without a usable report is flagged rejected, so that it is not read again)."""
    location = source.location
    for message in source.messages():
        origin = f"{location.url}#{message.uid}"
        results = list(read_all(messages_documents(message.data, origin), store))
        yield from results
        if any(r.ok for r in results):
            source.done(message.uid)  # each report was committed in its own transaction
        else:
            source.rejected(message.uid, results[0].error if results else "no DMARC report in the message")
