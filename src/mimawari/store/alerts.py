"""The alert side of the store: which conditions hold, the alerts raised, their deliveries.

``apply`` is the one place where "fire once per change" is decided, in one transaction with marking the
scan evaluated: a condition raises an alert only when it was not already held, so running the rules
again on the same scan, or on the next scan with nothing changed, raises nothing. A delivery is pending
until its notifier accepted it; failures are retried with back-off and given up after ``MAX_ATTEMPTS``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from mimawari.monitor.alert import Alert, Condition
from mimawari.serial import from_jsonable, to_jsonable
from mimawari.store.models import AlertRow, AlertStateRow, DeliveryRow, OrganisationRow, ScanRow

MAX_ATTEMPTS = 8
BACKOFF = (60, 300, 900, 3600, 3 * 3600, 6 * 3600, 12 * 3600)
"""Seconds before the 2nd, 3rd … attempt: a notifier down for a day still gets its alerts."""


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    """Given up after ``MAX_ATTEMPTS``."""


@dataclass(frozen=True)
class Delivery:
    id: int
    notifier: str
    status: DeliveryStatus
    attempts: int
    last_error: str
    delivered_at: datetime | None


@dataclass(frozen=True)
class StoredAlert:
    id: int
    alert: Alert
    deliveries: tuple[Delivery, ...]


class _Transactions(Protocol):
    def _transaction(self, conflict: str = "") -> AbstractContextManager[Session]: ...


def _delivery(row: DeliveryRow) -> Delivery:
    return Delivery(
        row.id, row.notifier, DeliveryStatus(row.status), row.attempts, row.last_error, row.delivered_at
    )


def _stored(row: AlertRow) -> StoredAlert:
    return StoredAlert(row.id, from_jsonable(Alert, row.alert), tuple(map(_delivery, row.deliveries)))


class AlertLedger:
    """``store.alerts``: shares the store's connection and transactions."""

    def __init__(self, store: _Transactions) -> None:
        self._store = store

    def unevaluated(self) -> list[tuple[str, int]]:
        """(organisation, scan id) of each organisation's latest complete scan not yet evaluated."""
        latest = (
            select(ScanRow.organisation_id, ScanRow.id, ScanRow.alerts_evaluated_at, OrganisationRow.name)
            .join(OrganisationRow, OrganisationRow.id == ScanRow.organisation_id)
            .where(ScanRow.status == "complete")
            .order_by(ScanRow.organisation_id, ScanRow.started_at.desc(), ScanRow.id.desc())
        )
        found: dict[int | None, tuple[str, int] | None] = {}
        with self._store._transaction() as session:
            for owner, scan_id, evaluated, name in session.execute(latest):
                if owner not in found:
                    found[owner] = (name, scan_id) if evaluated is None else None
        return sorted(pair for pair in found.values() if pair is not None)

    def apply(
        self,
        scan_id: int,
        conditions: Mapping[str, Sequence[Condition]],
        notifiers: Mapping[str, Sequence[str]],
        now: datetime,
    ) -> list[StoredAlert]:
        """Record what each rule (``conditions`` by rule name) found on ``scan_id`` and raise the alerts
        of the conditions that newly hold, each with a pending delivery per notifier of its rule. A scan
        already evaluated is left alone (another monitor got there first): nothing is raised twice."""
        with self._store._transaction() as session:
            scan = session.get(ScanRow, scan_id, with_for_update=True)
            if scan is None or scan.organisation_id is None or scan.alerts_evaluated_at is not None:
                return []
            raised: list[AlertRow] = []
            for rule, found in conditions.items():
                raised += self._apply_rule(session, scan, rule, found, notifiers.get(rule, ()), now)
            scan.alerts_evaluated_at = now
            session.flush()
            return [_stored(row) for row in raised]

    @staticmethod
    def _apply_rule(
        session: Session,
        scan: ScanRow,
        rule: str,
        conditions: Sequence[Condition],
        notifiers: Sequence[str],
        now: datetime,
    ) -> Iterator[AlertRow]:
        owner = scan.organisation_id
        assert owner is not None
        states = {
            row.key: row
            for row in session.scalars(select(AlertStateRow).filter_by(organisation_id=owner, rule=rule))
        }
        seen = {c.key for c in conditions}
        for key, gone in states.items():
            if key not in seen:  # the thing it was about is gone (a domain left the organisation)
                session.delete(gone)
        for condition in conditions:
            state = states.get(condition.key)
            if condition.active is None:
                continue
            if not condition.active:
                if state is not None:
                    session.delete(state)
                continue
            if state is not None:
                continue
            session.add(
                AlertStateRow(
                    organisation_id=owner, rule=rule, key=condition.key, since_scan_id=scan.id, since=now
                )
            )
            if condition.alert is None:
                continue
            alert = condition.alert
            row = AlertRow(
                organisation_id=owner,
                scan_id=scan.id,
                rule=rule,
                key=f"{condition.key}@{scan.id}",
                kind=alert.kind.value,
                severity=alert.severity.value,
                domain=alert.domain,
                raised_at=alert.raised_at,
                alert=to_jsonable(alert),
            )
            row.deliveries = [
                DeliveryRow(
                    notifier=name,
                    status=DeliveryStatus.PENDING.value,
                    attempts=0,
                    next_attempt_at=now,
                    last_error="",
                )
                for name in notifiers
            ]
            session.add(row)
            yield row

    def due(self, now: datetime) -> list[tuple[int, str, Alert]]:
        """(delivery id, notifier, alert) of every pending delivery whose time has come, oldest first."""
        query = (
            select(DeliveryRow)
            .where(DeliveryRow.status == DeliveryStatus.PENDING.value, DeliveryRow.next_attempt_at <= now)
            .order_by(DeliveryRow.next_attempt_at, DeliveryRow.id)
            .options(selectinload(DeliveryRow.alert))
        )
        with self._store._transaction() as session:
            return [
                (row.id, row.notifier, from_jsonable(Alert, row.alert.alert))
                for row in session.scalars(query)
            ]

    def delivered(self, delivery_id: int, now: datetime) -> None:
        with self._store._transaction() as session:
            row = session.get(DeliveryRow, delivery_id, with_for_update=True)
            if row is not None:
                row.status, row.delivered_at, row.attempts = DeliveryStatus.SENT.value, now, row.attempts + 1

    def failed(self, delivery_id: int, error: str, now: datetime) -> None:
        """Count a failed attempt: retried after the next back-off step, given up after the last one."""
        with self._store._transaction() as session:
            row = session.get(DeliveryRow, delivery_id, with_for_update=True)
            if row is None:
                return
            row.attempts += 1
            row.last_error = error
            if row.attempts >= MAX_ATTEMPTS:
                row.status = DeliveryStatus.FAILED.value
            else:
                row.next_attempt_at = now + timedelta(seconds=BACKOFF[min(row.attempts, len(BACKOFF)) - 1])

    def recent(self, organisation: str | None = None, limit: int = 50) -> list[StoredAlert]:
        """The latest alerts, newest first, with where each was delivered."""
        query = (
            select(AlertRow)
            .order_by(AlertRow.raised_at.desc(), AlertRow.id.desc())
            .limit(limit)
            .options(selectinload(AlertRow.deliveries))
        )
        if organisation is not None:
            query = query.join(OrganisationRow).where(OrganisationRow.name == organisation)
        with self._store._transaction() as session:
            return [_stored(row) for row in session.scalars(query)]
