"""The store's API: organisations, scans and their reports, in short transactions.

Every method opens its own transaction and commits before it returns, so whatever a method has returned
is on disk: a scan that dies half-way (an exception, SIGKILL, a power cut with SQLite's synchronous=FULL)
keeps the reports it had added and stays ``running`` (or ``failed``), and ``scans()`` never lists it as
complete.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import TypeVar

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from mimawari.errors import InputError
from mimawari.parse.names import normalize_domain
from mimawari.scan import DomainReport
from mimawari.score import RULES_VERSION
from mimawari.store.alerts import AlertLedger
from mimawari.store.database import default_url, ensure_directory, make_engine, migrate, translated
from mimawari.store.deliverability import DeliverabilityLedger
from mimawari.store.dmarc import DmarcLedger
from mimawari.store.models import (
    OrganisationDomainRow,
    OrganisationNetblockRow,
    OrganisationRow,
    OrganisationTagRow,
    ScanRow,
    ScanTargetRow,
)
from mimawari.store.records import (
    Criticality,
    Organisation,
    Relation,
    ScanRecord,
    ScanStatus,
    organisation_of,
    report_of,
    scan_record_of,
    target_row,
)

E = TypeVar("E", Relation, Criticality, ScanStatus)

NAME_LENGTH = 200
TAG_LENGTH = 64


def _now() -> datetime:
    return datetime.now(UTC)


def _choice(kind: type[E], value: str, what: str) -> E:
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        raise InputError(f"unknown {what} {value!r}: use one of {choices}") from None


def _netblock(text: str) -> str:
    try:
        return str(ipaddress.ip_network(text.strip(), strict=True))
    except ValueError:
        try:
            loose = ipaddress.ip_network(text.strip(), strict=False)
        except ValueError:
            raise InputError(f"{text!r} is not a network address (CIDR such as 192.0.2.0/24)") from None
        raise InputError(f"{text!r} has host bits set: did you mean {loose}?") from None


def _tag(text: str) -> str:
    tag = text.strip().lower()
    if not tag or len(tag) > TAG_LENGTH:
        raise InputError(f"a tag has 1 to {TAG_LENGTH} characters: {text!r}")
    return tag


def normalised(organisation: Organisation) -> Organisation:
    """The organisation as it will be stored, or ``InputError`` saying what is wrong with it."""
    name = organisation.name.strip()
    if not name or len(name) > NAME_LENGTH:
        raise InputError(f"an organisation name has 1 to {NAME_LENGTH} characters: {organisation.name!r}")

    def unique(values: Iterable[str]) -> tuple[str, ...]:
        return tuple(sorted(set(values)))

    return Organisation(
        name=name,
        relation=_choice(Relation, organisation.relation, "relation"),
        criticality=_choice(Criticality, organisation.criticality, "criticality"),
        domains=unique(map(normalize_domain, organisation.domains)),
        netblocks=unique(map(_netblock, organisation.netblocks)),
        tags=unique(map(_tag, organisation.tags)),
    )


class Store:
    """A database of organisations and scans. ``open_store`` makes one; close it (or use ``with``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # expire_on_commit=False: records are built from rows after the commit without a new query.
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self.alerts = AlertLedger(self)
        self.dmarc = DmarcLedger(self)
        self.deliverability = DeliverabilityLedger(self)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    @contextmanager
    def _transaction(self, conflict: str = "") -> Iterator[Session]:
        """One committed transaction; ``conflict`` is the message when a unique constraint refuses it."""
        try:
            with translated(self.engine), self._sessions.begin() as session:
                yield session
        except IntegrityError:
            # Only reached when another process won a race past the check made inside the transaction.
            raise InputError(conflict or "the change conflicts with what is stored") from None

    # --- organisations ------------------------------------------------------------------------------------

    def add_organisation(self, organisation: Organisation) -> Organisation:
        """Store a new organisation (``InputError`` when the name is taken or a value is invalid)."""
        organisation = normalised(organisation)
        taken = f"an organisation named {organisation.name!r} already exists"
        with self._transaction(conflict=taken) as session:
            if session.scalar(select(OrganisationRow.id).filter_by(name=organisation.name)) is not None:
                raise InputError(taken)
            row = OrganisationRow(
                name=organisation.name,
                relation=organisation.relation.value,
                criticality=organisation.criticality.value,
                created_at=_now(),
            )
            row.domains = [OrganisationDomainRow(domain=d) for d in organisation.domains]
            row.netblocks = [OrganisationNetblockRow(netblock=n) for n in organisation.netblocks]
            row.tags = [OrganisationTagRow(tag=t) for t in organisation.tags]
            session.add(row)
        return organisation

    def get_organisation(self, name: str) -> Organisation:
        with self._transaction() as session:
            return organisation_of(self._organisation(session, name))

    def list_organisations(
        self, relation: Relation | str | None = None, tag: str | None = None
    ) -> list[Organisation]:
        """Every organisation, by name; only those of ``relation`` and carrying ``tag`` when given."""
        query = select(OrganisationRow).order_by(OrganisationRow.name)
        if relation is not None:
            query = query.where(OrganisationRow.relation == _choice(Relation, relation, "relation").value)
        if tag is not None:
            query = query.where(OrganisationRow.tags.any(OrganisationTagRow.tag == _tag(tag)))
        query = query.options(
            selectinload(OrganisationRow.domains),
            selectinload(OrganisationRow.netblocks),
            selectinload(OrganisationRow.tags),
        )
        with self._transaction() as session:
            return [organisation_of(row) for row in session.scalars(query)]

    def remove_organisation(self, name: str) -> None:
        """Delete the organisation with its scans (its history goes with it)."""
        with self._transaction() as session:
            session.delete(self._organisation(session, name))

    @staticmethod
    def _organisation(session: Session, name: str) -> OrganisationRow:
        row = session.scalar(select(OrganisationRow).filter_by(name=name.strip()))
        if row is None:
            raise InputError(f"no organisation named {name!r} (mimawari org list shows them)")
        return row

    # --- scans --------------------------------------------------------------------------------------------

    def begin_scan(self, organisation: str | None = None) -> int:
        """Record a ``running`` scan (committed at once) and return its id."""
        with self._transaction() as session:
            owner = self._organisation(session, organisation).id if organisation is not None else None
            row = ScanRow(
                organisation_id=owner,
                status=ScanStatus.RUNNING.value,
                started_at=_now(),
                rules_version=RULES_VERSION,
                error="",
            )
            session.add(row)
            session.flush()
            return row.id

    def add_report(self, scan_id: int, report: DomainReport) -> None:
        """Store one domain's report in its own transaction, as soon as it is done."""
        duplicate = f"scan {scan_id} already holds a report for {report.domain}"
        with self._transaction(conflict=duplicate) as session:
            scan = self._running_scan(session, scan_id)
            if report.score is not None and report.score.rules_version != scan.rules_version:
                raise InputError(
                    f"the report for {report.domain} was scored under rules {report.score.rules_version}, "
                    f"scan {scan_id} under {scan.rules_version}"
                )
            existing = select(ScanTargetRow.id).filter_by(scan_id=scan_id, domain=report.domain)
            if session.scalar(existing) is not None:
                raise InputError(duplicate)
            row = target_row(report)
            row.scan_id = scan_id
            session.add(row)

    def finish_scan(
        self, scan_id: int, status: ScanStatus | str = ScanStatus.COMPLETE, error: str = ""
    ) -> None:
        """Mark a running scan ``complete`` or ``failed`` (with the reason in ``error``)."""
        final = _choice(ScanStatus, status, "scan status")
        if final is ScanStatus.RUNNING:
            raise InputError("a scan is finished as complete or failed, not running")
        with self._transaction() as session:
            scan = self._running_scan(session, scan_id)
            scan.status, scan.finished_at, scan.error = final.value, _now(), error

    def fail_stale_scans(self, older_than: timedelta, now: datetime | None = None) -> int:
        """Mark ``running`` scans begun more than ``older_than`` ago as failed (their process died: a
        scan that runs for hours is not one this tool makes); return how many."""
        now = now or _now()
        stale = (
            update(ScanRow)
            .where(ScanRow.status == ScanStatus.RUNNING.value, ScanRow.started_at < now - older_than)
            .values(status=ScanStatus.FAILED.value, finished_at=now, error="interrupted: never finished")
            .returning(ScanRow.id)
        )
        with self._transaction() as session:
            return len(session.scalars(stale).all())

    def scans(
        self, organisation: str | None = None, *, complete_only: bool = True, last: int | None = None
    ) -> list[ScanRecord]:
        """The scans of ``organisation`` (of every organisation and none when None), oldest first,
        with each domain's score and category scores; only complete ones unless told otherwise; only
        the ``last`` N when given."""
        query = select(ScanRow).order_by(ScanRow.started_at.desc(), ScanRow.id.desc())
        if complete_only:
            query = query.where(ScanRow.status == ScanStatus.COMPLETE.value)
        if last is not None:
            query = query.limit(last)
        query = query.options(
            selectinload(ScanRow.organisation),
            selectinload(ScanRow.targets).selectinload(ScanTargetRow.categories),
        )
        with self._transaction() as session:
            if organisation is not None:
                query = query.where(ScanRow.organisation_id == self._organisation(session, organisation).id)
            return [scan_record_of(row) for row in session.scalars(query)][::-1]

    def latest_scan(self, organisation: str) -> ScanRecord | None:
        """The organisation's most recent complete scan, or None when it has none."""
        return next(iter(self.scans(organisation, last=1)), None)

    def last_started(self, organisation: str) -> datetime | None:
        """When the organisation's latest scan began, whatever became of it (the monitor's clock: a
        scan that failed is not retried before its next turn)."""
        query = select(ScanRow.started_at).order_by(ScanRow.started_at.desc()).limit(1)
        with self._transaction() as session:
            owner = self._organisation(session, organisation).id
            return session.scalar(query.where(ScanRow.organisation_id == owner))

    def load_report(self, scan_id: int, domain: str) -> DomainReport:
        """One domain's report as it was stored (see ``records.report_of``)."""
        query = (
            select(ScanTargetRow)
            .filter_by(scan_id=scan_id, domain=normalize_domain(domain))
            .options(
                selectinload(ScanTargetRow.scan),
                selectinload(ScanTargetRow.findings),
                selectinload(ScanTargetRow.categories),
            )
        )
        with self._transaction() as session:
            row = session.scalar(query)
            if row is None:
                raise InputError(f"scan {scan_id} holds no report for {domain}")
            return report_of(row, row.scan.rules_version)

    @staticmethod
    def _running_scan(session: Session, scan_id: int) -> ScanRow:
        scan = session.get(ScanRow, scan_id, with_for_update=True)
        if scan is None:
            raise InputError(f"no scan with id {scan_id}")
        if scan.status != ScanStatus.RUNNING.value:
            raise InputError(f"scan {scan_id} is already {scan.status}")
        return scan


def open_store(url: str | None = None) -> Store:
    """Open (and create or upgrade to the newest schema) the store at ``url``, default ``default_url()``.

    ``StoreError`` (exit code 3) when the database cannot be used.
    """
    if url is None:
        url = default_url()
        ensure_directory(url)
    engine = make_engine(url)
    try:
        migrate(engine)
    except BaseException:
        engine.dispose()
        raise
    return Store(engine)
