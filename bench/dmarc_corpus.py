"""A folder of DMARC aggregate reports as a mailbox export would give them, and the truth about it.

The reports (RFC 7489 appendix C; a few in the RFC 9990 namespace) come from reporters shaped after the
big receivers — their file names, containers and XML habits — for four domains, with record counts
skewed as in life: most reports hold a handful of records, a few hold thousands. They are written as
``.xml``, ``.xml.gz``, ``.zip`` (some zips holding several reports) and ``.eml`` (the report attached as
zip or gzip, base64), plus a few broken files. Everything comes from one seed, so a seed always gives the
same bytes. Addresses are documentation prefixes (RFC 5737, RFC 3849).

The generator knows what a parser must find: each valid report with its records and message count,
and each broken file, which a parser must reject.
"""

from __future__ import annotations

import base64
import gzip
import io
import random
import zipfile
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path

from bench.dmarc_reports import (
    DAY,
    DOMAINS,
    FIRST_DAY,
    REPORTERS,
    Reporter,
    record_counts,
    report_id_for,
    report_xml,
)

ZIP_TIME = (2024, 3, 1, 0, 0, 0)  # fixed member times: the same seed gives the same bytes

BROKEN_FLAWS = ("truncated gzip", "truncated XML", "XML with a DTD and an entity", "not a report")


@dataclass(frozen=True)
class ReportTruth:
    report_id: str
    org_name: str
    domain: str
    file: str
    """The file holding it, relative to the corpus folder."""
    begin: int
    end: int
    records: int
    messages: int
    """The sum of the records' counts."""


@dataclass(frozen=True)
class BrokenFile:
    file: str
    flaw: str
    report_id: str = ""
    """The id of the report the file was cut from or poisoned, if any: a parser that accepts it shows it."""


@dataclass(frozen=True)
class Corpus:
    directory: Path
    seed: int
    reports: tuple[ReportTruth, ...]
    broken: tuple[BrokenFile, ...]
    files: dict[str, int]
    """Files by form: ``xml``, ``xml.gz``, ``zip``, ``zip (several reports)``, ``eml``, ``broken``."""
    size_bytes: int

    @property
    def records(self) -> int:
        return sum(r.records for r in self.reports)

    @property
    def messages(self) -> int:
        return sum(r.messages for r in self.reports)


# --- the files ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Planned:
    index: int
    reporter: Reporter
    domain: str
    begin: int
    report_id: str
    records: int
    form: str
    """``own`` (the reporter's container), ``eml``, ``bundle`` (a zip of several reports) or ``broken``."""

    @property
    def end(self) -> int:
        # Microsoft's reports end at the next midnight, the others a second before it.
        return self.begin + DAY if self.reporter.style == "microsoft" else self.begin + DAY - 1

    @property
    def base(self) -> str:
        return f"{self.reporter.file_prefix}!{self.domain}!{self.begin}!{self.end}"


def _plan(rng: random.Random, size: int, broken: int) -> list[_Planned]:
    """Who reports on which domain for which day (one report a day per pair, so file names are unique);
    the last ``broken`` entries are the reports the broken files are made from."""
    days: dict[tuple[str, str], int] = {}
    counts = record_counts(rng, size) + [rng.randrange(3, 40) for _ in range(broken)]
    planned = []
    for index, records in enumerate(counts):
        reporter = rng.choices(REPORTERS, [r.share for r in REPORTERS])[0]
        domain = rng.choice(DOMAINS)[0]
        day = days[reporter.org_name, domain] = days.get((reporter.org_name, domain), -1) + 1
        begin = FIRST_DAY + day * DAY
        form = rng.choices(("own", "eml", "bundle"), (80, 15, 5))[0] if index < size else "broken"
        report_id = report_id_for(rng, reporter, begin)
        planned.append(_Planned(index, reporter, domain, begin, report_id, records, form))
    return planned


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=6, mtime=0)


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members:
            archive.writestr(zipfile.ZipInfo(name, ZIP_TIME), data, zipfile.ZIP_DEFLATED, 6)
    return buffer.getvalue()


def _email(planned: _Planned, subject: str, parts: list[tuple[str, str, bytes]], boundary: str) -> bytes:
    """A report mail as receivers send it: a short text part and the attachments, base64, CRLF lines."""
    reporter = planned.reporter
    lines = [
        f"From: {reporter.email}",
        f"To: dmarc-reports@{planned.domain}",
        f"Subject: {subject}",
        f"Date: {formatdate(planned.end + 3600, usegmt=True)}",
        f"Message-ID: <{planned.report_id}.{planned.index}@{reporter.file_prefix}>",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/mixed; boundary="{boundary}"',
        "",
        f"--{boundary}",
        'Content-Type: text/plain; charset="UTF-8"',
        "Content-Transfer-Encoding: 7bit",
        "",
        f"This is a DMARC aggregate report from {reporter.org_name} for {planned.domain}.",
        "",
    ]
    for name, mime, payload in parts:
        lines += [
            f"--{boundary}",
            f'Content-Type: {mime}; name="{name}"',
            f'Content-Disposition: attachment; filename="{name}"',
            "Content-Transfer-Encoding: base64",
            "",
            base64.encodebytes(payload).decode("ascii").rstrip("\n"),
            "",
        ]
    lines += [f"--{boundary}--", ""]
    return "\r\n".join(lines).encode("ascii")


def _report_email(planned: _Planned, xml: bytes, boundary: str) -> bytes:
    if planned.reporter.container == "zip":
        attachment = (f"{planned.base}.zip", "application/zip", _zip([(f"{planned.base}.xml", xml)]))
    else:
        attachment = (f"{planned.base}.xml.gz", "application/gzip", _gzip(xml))
    subject = (
        f"Report domain: {planned.domain} Submitter: {planned.reporter.org_name}"
        f" Report-ID: <{planned.report_id}>"
    )
    return _email(planned, subject, [attachment], boundary)


def _broken(planned: _Planned, number: int, xml: str, rng: random.Random) -> tuple[bytes, BrokenFile]:
    """The ``number``-th broken file, cut from or poisoning ``planned``'s report (or no report at all);
    the flaws take turns, and each flaw has two variants."""
    flaw = BROKEN_FLAWS[number % len(BROKEN_FLAWS)]
    second = number // len(BROKEN_FLAWS) % 2 == 1
    name, report_id = f"{planned.base}.xml", planned.report_id
    if flaw == "truncated gzip":
        name, data = f"{planned.base}.xml.gz", _gzip(xml.encode())
        data = data[: len(data) // 2]
    elif flaw == "truncated XML":
        data = xml.encode()[: len(xml) * 2 // 3]  # cut mid-record: no closing tags
    elif flaw == "XML with a DTD and an entity":
        if second:  # an external entity (XXE)
            dtd, reference = '<!ENTITY x SYSTEM "file:///etc/hostname">', "&x;"
        else:  # entity expansion ("billion laughs", three levels only)
            dtd = '<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">'
            reference = "&c;"
        declaration, _, rest = xml.partition("\n")
        rest = rest.replace("</org_name>", f"{reference}</org_name>", 1)
        data = f"{declaration}\n<!DOCTYPE feedback [{dtd}]>\n{rest}".encode()
    elif second:  # not a report: a zip of notes
        name, report_id = f"notes-{rng.randrange(10**5, 10**6)}.zip", ""
        data = _zip([("notes.txt", b"minutes of the DMARC roll-out meeting\n" * 20)])
    else:  # not a report: a mail with an invoice
        name, report_id = f"Invoice {rng.randrange(10**5, 10**6)}.eml", ""
        pdf = b"%PDF-1.4\n" + rng.randbytes(2000) + b"\n%%EOF\n"
        parts = [("invoice.pdf", "application/pdf", pdf)]
        data = _email(planned, "Your invoice", parts, f"b{rng.getrandbits(64):016x}")
    return data, BrokenFile(name, flaw, report_id)


class _Writer:
    """Writes the files of a corpus into one folder, counting them and their bytes."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.truths: list[ReportTruth] = []
        self.broken: list[BrokenFile] = []
        self.files = dict.fromkeys(("xml", "xml.gz", "zip", "zip (several reports)", "eml", "broken"), 0)
        self.size_bytes = 0
        self.bundle: list[tuple[_Planned, bytes, int]] = []

    def write(self, name: str, data: bytes, form: str) -> None:
        path = self.directory / name
        if path.exists():
            raise ValueError(f"{path} exists: generate a corpus into an empty folder")
        path.write_bytes(data)
        self.size_bytes += len(data)
        self.files[form] += 1

    def report(self, planned: _Planned, xml: bytes, messages: int, boundary: str) -> None:
        """One report in its own file: the reporter's container, or a mail."""
        if planned.form == "eml":
            name = (
                f"Report domain {planned.domain} Submitter {planned.reporter.org_name}"
                f" Report-ID {planned.report_id}.eml"
            )
            data, form = _report_email(planned, xml, boundary), "eml"
        elif planned.reporter.container == "zip":
            name, data, form = f"{planned.base}.zip", _zip([(f"{planned.base}.xml", xml)]), "zip"
        elif planned.reporter.container == "gz":
            name, data, form = f"{planned.base}.xml.gz", _gzip(xml), "xml.gz"
        else:
            name, data, form = f"{planned.base}.xml", xml, "xml"
        self.write(name, data, form)
        self.truths.append(_truth(planned, name, messages))

    def flush_bundle(self) -> None:
        """The reports gathered so far, in one zip (as a user exports several reports at once)."""
        if not self.bundle:
            return
        name = f"dmarc-reports-{self.files['zip (several reports)'] + 1:03d}.zip"
        self.write(name, _zip([(f"{p.base}.xml", xml) for p, xml, _ in self.bundle]), "zip (several reports)")
        self.truths.extend(_truth(p, name, messages) for p, _, messages in self.bundle)
        self.bundle.clear()


def generate(directory: Path, size: int, seed: int) -> Corpus:
    """Write ``size`` valid reports and a few broken files into ``directory`` (created if needed; no
    file of the corpus may exist there yet), and say what is in it."""
    if size < 1:
        raise ValueError("a corpus needs at least one report")
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    planned = _plan(rng, size, max(len(BROKEN_FLAWS), round(size / 250)))
    writer = _Writer(directory)
    bundle_size = rng.randrange(2, 7)
    for p in planned:
        # Each report draws from its own generator: its records do not depend on the other reports.
        report_rng = random.Random(f"{seed}:{p.index}")
        text, messages = report_xml(
            report_rng, p.reporter, p.report_id, p.domain, (p.begin, p.end), p.records
        )
        if p.form == "broken":
            data, flawed = _broken(p, len(writer.broken), text, report_rng)
            writer.write(flawed.file, data, "broken")
            writer.broken.append(flawed)
        elif p.form == "bundle":
            writer.bundle.append((p, text.encode(), messages))
            if len(writer.bundle) == bundle_size:
                writer.flush_bundle()
                bundle_size = rng.randrange(2, 7)
        else:
            writer.report(p, text.encode(), messages, f"----=_Part_{report_rng.getrandbits(48):012x}")
    writer.flush_bundle()
    return Corpus(
        directory, seed, tuple(writer.truths), tuple(writer.broken), writer.files, writer.size_bytes
    )


def _truth(planned: _Planned, name: str, messages: int) -> ReportTruth:
    p = planned
    return ReportTruth(p.report_id, p.reporter.org_name, p.domain, name, p.begin, p.end, p.records, messages)
