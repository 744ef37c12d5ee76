"""Complaint feedback: ARF messages (RFC 5965, ``Feedback-Type: abuse``) that a feedback loop sends for
each message a user marked as spam — Yahoo's Complaint Feedback Loop, and most others.

A feedback loop reports complaints one by one and never says how much was sent, so the rate needs the
sent volume from the sender: ``--sent N`` (the same every day) or a CSV of ``day,sent``. Complaints are
counted per UTC day of their ``Arrival-Date`` (when the complained-about message arrived), else of the
report's ``Date``, for the domain given: a complaint concerns it when its ``Reported-Domain``, the DKIM
``d=`` of the original message (what Yahoo's CFL is keyed by) or the original's From domain is the
domain or a subdomain of it. The same report found twice (in an mbox and in a Maildir) counts once.

The e-mails are found by ``dmarc.containers`` (files, directories, mbox, Maildir) and their ARF structure
read with the DMARC failure-report parser's pieces (``dmarc.failure``), so both read MIME the same way
and with the same guards.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from email.message import Message
from email.parser import BytesParser
from pathlib import Path

from mimawari.dmarc.containers import Document, Unreadable, documents
from mimawari.dmarc.failure import (  # the ARF reading of failure reports, shared
    MAX_FAILURE_BYTES,
    MAX_MIME_DELIMITERS,
    REPORT_POLICY,
    arf_date,
    embedded_headers,
    feedback_fields,
    feedback_report_parts,
    first_field,
    header_from_domain,
    lenient_domain,
    original_headers,
    raw_header,
    report_key,
)
from mimawari.dmarc.model import ReportError, ReportKind
from mimawari.errors import InputError
from mimawari.model import SpamRateDay

SOURCE = "yahoo-arf"
MAX_SENT_FILE_BYTES = 4 << 20
_DKIM_DOMAIN = re.compile(r"(?:^|;)\s*d\s*=\s*([^;\s]+)", re.I)


@dataclass(frozen=True)
class Complaint:
    origin: str
    key: str
    """What the report says, hashed (``dmarc.failure.report_key``): the same report twice has the same key."""
    day: str
    domains: tuple[str, ...]
    """The domains it may concern: Reported-Domain, the DKIM d= and the From domain of the original."""

    def concerns(self, domain: str) -> bool:
        return any(d == domain or d.endswith(f".{domain}") for d in self.domains)


@dataclass(frozen=True)
class Skipped:
    origin: str
    reason: str


def parse_complaint(message: bytes, origin: str) -> Complaint:
    """The complaint in one ARF e-mail; ``ReportError`` (one line) for anything else."""
    if len(message) > MAX_FAILURE_BYTES:
        raise ReportError(f"complaint report is {len(message)} bytes, over the limit of {MAX_FAILURE_BYTES}")
    if message.count(b"\n--") + message.startswith(b"--") > MAX_MIME_DELIMITERS:
        raise ReportError(f"complaint report has over {MAX_MIME_DELIMITERS} MIME boundary lines")
    try:
        return _parse(message, origin)
    except ReportError:
        raise
    except RecursionError:
        raise ReportError("complaint report: MIME parts nested too deeply") from None
    except Exception as error:  # the email package on crafted MIME (see dmarc.failure.parse_failure)
        raise ReportError(f"complaint report: unreadable MIME ({type(error).__name__})") from None


def _parse(data: bytes, origin: str) -> Complaint:
    report = BytesParser(policy=REPORT_POLICY).parsebytes(data)
    parts = feedback_report_parts(report)
    if len(parts) != 1:
        raise ReportError("not an ARF report: no single message/feedback-report part (RFC 5965 §2)")
    fields = feedback_fields(embedded_headers(parts[0]))
    feedback_type = first_field(fields, "feedback-type").lower()[:60]
    if feedback_type != "abuse":
        raise ReportError(f"Feedback-Type is {feedback_type or 'missing'!r}, not a spam complaint (abuse)")
    arrived = arf_date(
        first_field(fields, "arrival-date") or first_field(fields, "received-date")
    ) or arf_date(raw_header(report, "date"))
    if arrived is None:
        raise ReportError("no Arrival-Date and no Date: the day of the complaint is unknown")
    original = original_headers(report)
    domains = [lenient_domain(first_field(fields, "reported-domain"))]
    message_id = ""
    if original is not None:
        domains += [*_dkim_domains(original), header_from_domain(original)]
        message_id = "".join(raw_header(original, "message-id").split())
    found = tuple(dict.fromkeys(d for d in domains if d))
    if not found:
        raise ReportError("no Reported-Domain, DKIM signature or From domain: whose mail it was is unknown")
    return Complaint(origin, report_key(fields, message_id, ""), arrived.date().isoformat(), found)


def _dkim_domains(original: Message) -> list[str]:
    signatures = [str(v) for n, v in original.raw_items() if n.strip().lower() == "dkim-signature"]
    return [lenient_domain(m.group(1)) for s in signatures if (m := _DKIM_DOMAIN.search(" ".join(s.split())))]


def complaints(paths: Iterable[Path]) -> Iterator[Complaint | Skipped]:
    """Every ARF complaint in the files, directories, mbox files and Maildirs, or why an item was not one."""
    for found in documents(paths):
        if isinstance(found, Unreadable):
            # containers speaks of DMARC reports; what was looked for here is a complaint report.
            yield Skipped(found.origin, found.error.replace("DMARC report", "complaint report"))
        elif found.kind is not ReportKind.FAILURE:
            yield Skipped(found.origin, f"a DMARC {found.kind.value} report, not a complaint")
        else:
            yield _read(found)


def _read(document: Document) -> Complaint | Skipped:
    try:
        with document.open() as stream:
            data = stream.read(MAX_FAILURE_BYTES + 1)
        return parse_complaint(data, document.origin)
    except ReportError as error:
        return Skipped(document.origin, str(error))


def read_sent_file(path: Path) -> dict[str, int]:
    """``day,sent`` rows (a first row ``day,sent`` is a header): messages sent per UTC day."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_SENT_FILE_BYTES + 1)
        text = data.decode("utf-8-sig")
    except OSError as error:
        raise InputError(f"{path}: cannot read: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text (UTF-8) CSV file") from None
    if len(data) > MAX_SENT_FILE_BYTES:
        raise InputError(f"{path}: larger than {MAX_SENT_FILE_BYTES >> 20} MiB")
    sent: dict[str, int] = {}
    for number, fields in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
        if not any(f.strip() for f in fields):
            continue
        if number == 1 and fields[0].strip().lower() == "day":
            continue
        where = f"{path}: line {number}"
        if len(fields) != 2:
            raise InputError(f"{where}: expected two columns, day,sent (2026-12-01,48000)")
        day, count = fields[0].strip(), fields[1].strip().replace("_", "")
        try:
            day = date.fromisoformat(day).isoformat()
        except ValueError:
            raise InputError(f"{where}: {day[:40]!r} is not a day (YYYY-MM-DD)") from None
        if not count.isdigit() or int(count) == 0:
            raise InputError(f"{where}: sent {count[:40]!r} is not a positive count of messages")
        if day in sent:
            raise InputError(f"{where}: {day} is listed twice")
        sent[day] = int(count)
    if not sent:
        raise InputError(f"{path}: no day,sent rows")
    return sent


def daily(found: Iterable[Complaint], domain: str, sent: int | Mapping[str, int]) -> tuple[SpamRateDay, ...]:
    """Complaints per day over the messages sent that day, oldest first.

    ``sent`` a number: the days from the first to the last complaint, each with that volume (days between
    without complaints count as 0 %). A mapping: each day it lists, and a complaint on a day it does not
    list is an ``InputError``. A report found twice counts once.
    """
    unique = {c.key: c for c in found if c.concerns(domain)}
    counts = Counter(c.day for c in unique.values())
    if isinstance(sent, int):
        if sent <= 0:
            raise InputError("--sent is the number of messages sent a day: a positive count")
        if not counts:
            return ()
        first, last = date.fromisoformat(min(counts)), date.fromisoformat(max(counts))
        volumes = {(first + timedelta(days=n)).isoformat(): sent for n in range((last - first).days + 1)}
    else:
        missing = sorted(set(counts) - set(sent))
        if missing:
            raise InputError(
                f"complaints on {missing[0]} ({counts[missing[0]]}) but no sent volume for that day: "
                "add it to the --sent-file"
            )
        volumes = dict(sent)
    days = []
    for day in sorted(volumes):
        complaints, volume = counts.get(day, 0), volumes[day]
        if complaints > volume:
            raise InputError(f"{day}: {complaints} complaints but only {volume} messages sent")
        days.append(SpamRateDay(day, SOURCE, complaints / volume, complaints, volume))
    return tuple(days)
