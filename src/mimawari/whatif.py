"""What-if: apply DNS record changes to a scan's snapshot, re-evaluate, and say what each change is worth.

``patch`` is pure: each ``RecordChange`` replaces the recorded answer to one question (``NAME TYPE``)
with the records given, or with "no such records" for a removal. ``reevaluate`` then runs every check's
plan against the patched snapshot; a question the snapshot cannot answer — one the change makes new, such
as the record of an SPF include that was not there before — is asked on the network, and nothing else is.
``compare`` lines up old and new: every check whose grade moved, every category and the overall score.

Limits: a patched record in a DNSSEC-signed zone is not re-signed (the DNSSEC checks still see the
recorded signed answers), and a change of an MX, MTA-STS or TLSA record does not reconnect to mail
servers that were not contacted in the scan (their sessions are made live, as any new question).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import dns.exception
import dns.rdata
import dns.rdataclass
import dns.rdatatype

from mimawari.check import Registry
from mimawari.checks import ALL_CHECKS
from mimawari.errors import InputError
from mimawari.lookup import DnsAnswer, Query, Request, Response, Snapshot
from mimawari.model import Category, Grade, Status
from mimawari.observe import Network
from mimawari.scan import DomainReport, scan_target
from mimawari.score import Score


@dataclass(frozen=True)
class RecordChange:
    """Publish ``records`` at ``name`` ``rdtype`` (replacing what is there), or none for a removal."""

    name: str
    rdtype: str
    records: tuple[str, ...] = ()

    @property
    def query(self) -> Query:
        return Query.of(self.name, self.rdtype)

    @property
    def removal(self) -> bool:
        return not self.records


def parse_change(text: str, *, remove: bool = False) -> RecordChange:
    """``_dmarc.example.com TXT "v=DMARC1; p=reject"`` (``--set``) or ``_dmarc.example.com TXT``
    (``--remove``); the record data in zone-file presentation format, checked by dnspython."""
    parts = text.split(None, 2)
    if len(parts) < 2 or (remove and len(parts) != 2) or (not remove and len(parts) != 3):
        shape = "NAME TYPE" if remove else "NAME TYPE DATA"
        raise InputError(
            f'{text!r} is not {shape} (for example: _dmarc.example.com TXT "v=DMARC1; p=reject")'
        )
    name, rdtype = parts[0], parts[1].upper()
    try:
        kind = dns.rdatatype.from_text(rdtype)
    except dns.rdatatype.UnknownRdatatype:
        raise InputError(f"{rdtype!r} is not a DNS record type") from None
    if remove:
        return RecordChange(name, rdtype)
    data = parts[2].strip()
    if kind == dns.rdatatype.TXT and not data.startswith('"'):
        data = '"' + data.replace("\\", "\\\\").replace('"', '\\"') + '"'
    try:
        rdata = dns.rdata.from_text(dns.rdataclass.IN, kind, data)
    except (dns.exception.DNSException, ValueError) as exc:
        raise InputError(f"{rdtype} record {data!r} does not parse: {exc}") from None
    return RecordChange(name, rdtype, (rdata.to_text(),))


def merge(changes: Iterable[RecordChange]) -> list[RecordChange]:
    """Several ``--set`` of one name and type publish several records together."""
    merged: dict[Query, RecordChange] = {}
    for change in changes:
        earlier = merged.get(change.query)
        records = (earlier.records if earlier is not None else ()) + change.records
        merged[change.query] = RecordChange(change.name, change.rdtype, records)
    return list(merged.values())


def patch(snapshot: Snapshot, changes: Sequence[RecordChange]) -> Snapshot:
    """The snapshot as if the changes were published (same TTL as recorded, or 3600)."""
    answers = []
    for change in merge(changes):
        recorded = snapshot.answer(change.query)
        ttl = recorded.ttl if recorded is not None and recorded.ttl is not None else 3600
        if change.removal:
            answers.append(DnsAnswer(change.query, Status.ABSENT, "NOERROR", detail="removed (what-if)"))
        else:
            answers.append(
                DnsAnswer(change.query, Status.PRESENT, "NOERROR", tuple(sorted(change.records)), ttl)
            )
    return snapshot.patched(*answers)


class SnapshotFirst:
    """A network that answers from the snapshot and asks the real one only what the snapshot lacks."""

    def __init__(self, snapshot: Snapshot, network: Network) -> None:
        self.snapshot = snapshot
        self.network = network
        self.asked: list[Request] = []

    async def send(self, request: Request) -> Response:
        recorded = self.snapshot.response(request)
        if recorded is not None:
            return recorded
        self.asked.append(request)
        return await self.network.send(request)


async def reevaluate(
    snapshot: Snapshot, network: Network, checks: Registry = ALL_CHECKS
) -> tuple[DomainReport, list[Request]]:
    """Every check on ``snapshot``, asking the network only what it lacks; returns what was asked."""
    source = SnapshotFirst(snapshot, network)
    return await scan_target(snapshot.target, source, checks), source.asked


@dataclass(frozen=True)
class GradeChange:
    check_id: str
    before: Grade
    after: Grade


@dataclass(frozen=True)
class CategoryChange:
    category: Category
    before: float | None
    after: float | None
    before_grade: Grade
    after_grade: Grade


@dataclass(frozen=True)
class Comparison:
    domain: str
    changes: tuple[RecordChange, ...]
    checks: tuple[GradeChange, ...]
    categories: tuple[CategoryChange, ...]
    before: Score | None
    after: Score | None
    asked: int = 0
    """Questions the re-evaluation had to ask the network (what the change made new)."""


def compare(
    before: DomainReport, after: DomainReport, changes: Sequence[RecordChange], asked: int = 0
) -> Comparison:
    old = {f.check_id: f.grade for f in before.findings}
    moved = tuple(
        GradeChange(f.check_id, old[f.check_id], f.grade)
        for f in after.findings
        if f.check_id in old and old[f.check_id] is not f.grade
    )
    categories = []
    for category in Category:
        was = before.score.category(category) if before.score else None
        now = after.score.category(category) if after.score else None
        if was is None and now is None:
            continue
        categories.append(
            CategoryChange(
                category,
                was.score if was else None,
                now.score if now else None,
                was.grade if was else Grade.NA,
                now.grade if now else Grade.NA,
            )
        )
    return Comparison(
        before.domain, tuple(changes), moved, tuple(categories), before.score, after.score, asked
    )
