"""The tables of DMARC reports (issue 7): aggregate reports with their records, failure reports, SMTP TLS
reports with their policies. Each report is stored once: a unique key per kind (see each class) makes
ingesting the same report twice a no-op, and a report is written in one transaction with all its rows, so
a report that turns out truncated half-way leaves nothing behind.

A record keeps its first DKIM and SPF results as columns (what the sender inventory groups by: the
signing domain and selector, the SPF domain) and all of them as JSON.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mimawari.store.models import DOMAIN_LENGTH, Base, JsonDocument, UtcDateTime

ADDRESS_LENGTH = 320  # RFC 3696 errata: 64 + 1 + 255
IP_LENGTH = 45


class AggregateReportRow(Base):
    """Unique per reporter, report id, policy domain and period: the same report twice is stored once;
    a report id a reporter reuses for another period is another report."""

    __tablename__ = "dmarc_aggregate_reports"
    __table_args__ = (
        UniqueConstraint("org_name", "report_id", "domain", "begin", "end"),
        Index(None, "domain", "begin"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(ADDRESS_LENGTH))
    report_id: Mapped[str] = mapped_column(String(255))
    domain: Mapped[str] = mapped_column(String(DOMAIN_LENGTH))
    begin: Mapped[datetime] = mapped_column(UtcDateTime)
    end: Mapped[datetime] = mapped_column(UtcDateTime)
    version: Mapped[str] = mapped_column(String(8))
    policy: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    """``policy_published`` as reported (p, sp, np, adkim, aspf, pct, fo, testing, discovery_method)."""
    extra: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    """extra_contact_info, generator, errors."""
    origin: Mapped[str] = mapped_column(Text)
    """Where it was read from (file, archive member, mailbox message)."""
    ingested_at: Mapped[datetime] = mapped_column(UtcDateTime)
    records: Mapped[int] = mapped_column(Integer)
    messages: Mapped[int] = mapped_column(BigInteger)
    """Counts are 64-bit: a report may claim more messages than a 32-bit column holds."""

    rows: Mapped[list[AggregateRecordRow]] = relationship(cascade="all, delete-orphan", passive_deletes=True)


class AggregateRecordRow(Base):
    __tablename__ = "dmarc_aggregate_records"
    __table_args__ = (Index(None, "report_id"), Index(None, "source_ip"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("dmarc_aggregate_reports.id", ondelete="CASCADE"))
    source_ip: Mapped[str] = mapped_column(String(IP_LENGTH))
    count: Mapped[int] = mapped_column(BigInteger)
    disposition: Mapped[str] = mapped_column(String(16))
    dkim: Mapped[str] = mapped_column(String(16))
    """The DMARC-aligned DKIM verdict (pass / fail)."""
    spf: Mapped[str] = mapped_column(String(16))
    header_from: Mapped[str] = mapped_column(String(DOMAIN_LENGTH))
    envelope_from: Mapped[str] = mapped_column(String(DOMAIN_LENGTH))
    envelope_to: Mapped[str] = mapped_column(String(DOMAIN_LENGTH))
    dkim_domain: Mapped[str] = mapped_column(String(DOMAIN_LENGTH))
    """The DKIM result that speaks for the record: a pass aligned with header_from, else any pass, else
    the first ("" when unsigned)."""
    dkim_selector: Mapped[str] = mapped_column(String(255))
    dkim_result: Mapped[str] = mapped_column(String(16))
    spf_domain: Mapped[str] = mapped_column(String(DOMAIN_LENGTH))
    spf_result: Mapped[str] = mapped_column(String(16))
    details: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    """Every DKIM and SPF result and the policy override reasons."""


class FailureReportRow(Base):
    """Unique by ``key``: a hash of the normalised report, the same whichever way it was encoded."""

    __tablename__ = "dmarc_failure_reports"
    __table_args__ = (Index(None, "reported_domain", "arrival_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    reporter: Mapped[str] = mapped_column(String(ADDRESS_LENGTH))
    reported_domain: Mapped[str] = mapped_column(String(DOMAIN_LENGTH))
    arrival_date: Mapped[datetime | None] = mapped_column(UtcDateTime)
    source_ip: Mapped[str] = mapped_column(String(IP_LENGTH))
    auth_failure: Mapped[str] = mapped_column(String(32))
    report: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    """``serial.to_jsonable(FailureReport)``."""
    origin: Mapped[str] = mapped_column(Text)
    ingested_at: Mapped[datetime] = mapped_column(UtcDateTime)


class TlsReportRow(Base):
    """Unique per reporting organisation and report id (RFC 8460 §4.4: report-id is unique per reporter)."""

    __tablename__ = "dmarc_tls_reports"
    __table_args__ = (UniqueConstraint("organization_name", "report_id"), Index(None, "begin"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_name: Mapped[str] = mapped_column(String(255))
    report_id: Mapped[str] = mapped_column(String(255))
    begin: Mapped[datetime] = mapped_column(UtcDateTime)
    end: Mapped[datetime] = mapped_column(UtcDateTime)
    contact_info: Mapped[str] = mapped_column(String(ADDRESS_LENGTH))
    origin: Mapped[str] = mapped_column(Text)
    ingested_at: Mapped[datetime] = mapped_column(UtcDateTime)

    policies: Mapped[list[TlsPolicyRow]] = relationship(cascade="all, delete-orphan", passive_deletes=True)


class TlsPolicyRow(Base):
    __tablename__ = "dmarc_tls_policies"
    __table_args__ = (Index(None, "policy_domain"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("dmarc_tls_reports.id", ondelete="CASCADE"))
    policy_type: Mapped[str] = mapped_column(String(32))
    policy_domain: Mapped[str] = mapped_column(String(DOMAIN_LENGTH))
    successful_sessions: Mapped[int] = mapped_column(BigInteger)
    failed_sessions: Mapped[int] = mapped_column(BigInteger)
    details: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    """policy strings, MX hosts and the failure details."""
