"""The store's tables as typed SQLAlchemy 2 ORM classes (the Alembic revisions create the same schema).

An organisation's domains, netblocks and tags are child tables rather than JSON columns: "which
organisation owns this domain", "every supplier tagged ``logistics``" and the uniqueness of a domain within
an organisation are then plain indexed SQL that behaves the same on SQLite and PostgreSQL (JSON
containment does not). Enumerated values (relation, status, grade) are short strings checked by the
repository, not database enums, so adding a value never needs a table rebuild on SQLite.

A finding is stored twice over: its key facts as columns (for history and diff queries) and the whole
finding as JSON (the record a report is rebuilt from). The snapshot is zlib-compressed JSON.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Named constraints, so that later revisions can alter them (SQLite batch mode needs the names)."""

DOMAIN_LENGTH = 253  # RFC 1035 §2.3.4: 255 octets on the wire, 253 characters in text


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on both backends (SQLite keeps no zone and hands back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use an aware one (UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JsonDocument = JSON().with_variant(JSONB(), "postgresql")
"""JSON text on SQLite, JSONB on PostgreSQL (indexable should a query need it)."""


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class OrganisationRow(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    relation: Mapped[str] = mapped_column(String(16))
    criticality: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    domains: Mapped[list[OrganisationDomainRow]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="OrganisationDomainRow.domain"
    )
    netblocks: Mapped[list[OrganisationNetblockRow]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="OrganisationNetblockRow.netblock"
    )
    tags: Mapped[list[OrganisationTagRow]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="OrganisationTagRow.tag"
    )


class OrganisationDomainRow(Base):
    __tablename__ = "organisation_domains"
    __table_args__ = (Index(None, "domain"),)

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    domain: Mapped[str] = mapped_column(String(DOMAIN_LENGTH), primary_key=True)


class OrganisationNetblockRow(Base):
    __tablename__ = "organisation_netblocks"

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    netblock: Mapped[str] = mapped_column(String(64), primary_key=True)
    """A network in CIDR notation, normalised (``192.0.2.0/24``, ``2001:db8::/32``)."""


class OrganisationTagRow(Base):
    __tablename__ = "organisation_tags"
    __table_args__ = (Index(None, "tag"),)

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)


class ScanRow(Base):
    __tablename__ = "scans"
    # "The latest complete scan of an organisation" and its history walk this index backwards.
    __table_args__ = (Index(None, "organisation_id", "status", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    rules_version: Mapped[str] = mapped_column(String(32))
    error: Mapped[str] = mapped_column(Text, default="")
    alerts_evaluated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    """When the alert rules were run on this (complete) scan; NULL until then, so that a scan finished
    by another process, or by a monitor that died before evaluating it, is still evaluated once."""

    organisation: Mapped[OrganisationRow | None] = relationship()
    targets: Mapped[list[ScanTargetRow]] = relationship(
        back_populates="scan", cascade="all, delete-orphan", passive_deletes=True, order_by="ScanTargetRow.id"
    )


class ScanTargetRow(Base):
    __tablename__ = "scan_targets"
    __table_args__ = (UniqueConstraint("scan_id", "domain"), Index(None, "domain"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(String(DOMAIN_LENGTH))
    snapshot: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    """``serial.to_json(Snapshot)`` compressed with zlib."""
    score: Mapped[float | None] = mapped_column(Float)
    grade: Mapped[str | None] = mapped_column(String(8))
    """The overall letter; NULL when the report carried no score at all."""
    priorities: Mapped[list[dict[str, Any]]] = mapped_column(JsonDocument)
    """``[{"finding": position, "gain": …, "value": …}]`` in the report's order."""

    scan: Mapped[ScanRow] = relationship(back_populates="targets")
    findings: Mapped[list[FindingRow]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="FindingRow.position"
    )
    categories: Mapped[list[CategoryScoreRow]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="CategoryScoreRow.id"
    )


class FindingRow(Base):
    __tablename__ = "findings"
    __table_args__ = (UniqueConstraint("scan_target_id", "position"), Index(None, "check_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scan_target_id: Mapped[int] = mapped_column(ForeignKey("scan_targets.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    check_id: Mapped[str] = mapped_column(String(128))
    category: Mapped[str] = mapped_column(String(32))
    grade: Mapped[str] = mapped_column(String(8))
    severity: Mapped[str] = mapped_column(String(16))
    finding: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    """``serial.to_jsonable(Finding)``: texts, evidence, fix and after-fix as they were at scan time."""


class CategoryScoreRow(Base):
    __tablename__ = "category_scores"
    __table_args__ = (UniqueConstraint("scan_target_id", "category"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scan_target_id: Mapped[int] = mapped_column(ForeignKey("scan_targets.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(32))
    score: Mapped[float | None] = mapped_column(Float)
    grade: Mapped[str] = mapped_column(String(8))
    graded: Mapped[int] = mapped_column(Integer)
    unknown: Mapped[int] = mapped_column(Integer)
    unknown_share: Mapped[float] = mapped_column(Float)
    cap: Mapped[float | None] = mapped_column(Float)
    capped_by: Mapped[list[str]] = mapped_column(JsonDocument)


class AlertStateRow(Base):
    """A condition of an alert rule that is true now (``score_below:example.com``). The row's presence is
    what keeps the alert from being raised again on every scan; it goes when the condition clears."""

    __tablename__ = "alert_states"

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    rule: Mapped[str] = mapped_column(String(100), primary_key=True)
    key: Mapped[str] = mapped_column(String(600), primary_key=True)
    since_scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"))
    since: Mapped[datetime] = mapped_column(UtcDateTime)


class AlertRow(Base):
    """An alert raised once, with its texts; each notifier's delivery is a ``DeliveryRow``."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("organisation_id", "rule", "key"), Index(None, "raised_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"))
    rule: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(600))
    """The condition's key with the raising scan's id, so that the same condition raised again after it
    had cleared is a new alert."""
    kind: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    domain: Mapped[str] = mapped_column(String(DOMAIN_LENGTH))
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime)
    alert: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    """``serial.to_jsonable(Alert)``."""

    organisation: Mapped[OrganisationRow] = relationship()
    deliveries: Mapped[list[DeliveryRow]] = relationship(
        back_populates="alert", cascade="all, delete-orphan", passive_deletes=True, order_by="DeliveryRow.id"
    )


class DeliveryRow(Base):
    """One alert to one notifier: pending until sent; retried with back-off; given up after a limit."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("alert_id", "notifier"), Index(None, "status", "next_attempt_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    notifier: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")

    alert: Mapped[AlertRow] = relationship(back_populates="deliveries")
