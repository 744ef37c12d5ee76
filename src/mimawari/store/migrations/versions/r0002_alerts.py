"""Alerts: the state of each rule's conditions, the alerts raised and their deliveries, and when a scan's
alerts were evaluated.

Types are spelled out here, never imported from the models (see r0001).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def _key(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete="CASCADE"
    )


def upgrade() -> None:
    # Scans stored before this revision stay NULL: the monitor evaluates an organisation's latest one once.
    with op.batch_alter_table("scans") as scans:
        scans.add_column(sa.Column("alerts_evaluated_at", TIMESTAMP, nullable=True))
    op.create_table(
        "alert_states",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=600), nullable=False),
        sa.Column("since_scan_id", sa.Integer(), nullable=False),
        sa.Column("since", TIMESTAMP, nullable=False),
        _key("alert_states", "organisation_id", "organisations"),
        _key("alert_states", "since_scan_id", "scans"),
        sa.PrimaryKeyConstraint("organisation_id", "rule", "key", name=op.f("pk_alert_states")),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("scan_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=600), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("raised_at", TIMESTAMP, nullable=False),
        sa.Column("alert", JSON_DOCUMENT, nullable=False),
        _key("alerts", "organisation_id", "organisations"),
        _key("alerts", "scan_id", "scans"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint(
            "organisation_id", "rule", "key", name=op.f("uq_alerts_organisation_id_rule_key")
        ),
    )
    op.create_index(op.f("ix_alerts_raised_at"), "alerts", ["raised_at"])
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("notifier", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=False),
        sa.Column("delivered_at", TIMESTAMP, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        _key("deliveries", "alert_id", "alerts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("alert_id", "notifier", name=op.f("uq_deliveries_alert_id_notifier")),
    )
    op.create_index(op.f("ix_deliveries_status_next_attempt_at"), "deliveries", ["status", "next_attempt_at"])


def downgrade() -> None:
    for table in ("deliveries", "alerts", "alert_states"):
        op.drop_table(table)
    with op.batch_alter_table("scans") as scans:
        scans.drop_column("alerts_evaluated_at")
