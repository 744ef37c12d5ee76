"""``mimawari dmarc parse|ingest``: DMARC aggregate, failure and SMTP TLS reports from files, mailboxes
and IMAP.

``parse`` reads without storing and prints one result per report found (``--format json``: one JSON
object per line). ``ingest`` stores them, each report once; from IMAP, a message is flagged or moved only
after its reports are committed. Exit code 1 when a report was rejected (malformed, truncated, hostile).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from mimawari.cli_dmarc_report import readiness_command, sources_command, summary_command
from mimawari.cli_monitor import ListFormat, ListFormatOption
from mimawari.cli_options import user_errors
from mimawari.cli_org import DatabaseOption, opened
from mimawari.dmarc.containers import documents
from mimawari.dmarc.imap import ImapLocation, ImapSource, password_from_environment
from mimawari.dmarc.ingest import ReportResult, from_mailbox, read_all
from mimawari.errors import InputError
from mimawari.store import Store
from mimawari.store.dmarc import Outcome

dmarc_app = typer.Typer(help="DMARC aggregate, failure and SMTP TLS reports.", no_args_is_help=True)

PathsArgument = Annotated[
    list[str],
    typer.Argument(metavar="PATH...", help="Files or directories (xml, gz, zip, json, eml, mbox, Maildir)."),
]


def _document(result: ReportResult) -> dict[str, Any]:
    document: dict[str, Any] = {
        "file": result.file,
        "kind": result.kind.value if result.kind is not None else None,
        "ok": result.ok,
        "error": result.error,
        "report_id": result.report_id,
        "org_name": result.org_name,
        "domain": result.domain,
        "begin": result.begin.isoformat() if result.begin else None,
        "end": result.end.isoformat() if result.end else None,
        "records": result.records,
        "messages": result.messages,
    }
    if result.stored is not None:
        document["stored"] = result.stored.value
    return document


def _line(result: ReportResult) -> str:
    if not result.ok:
        return f"rejected  {result.file}: {result.error}"
    kind = result.kind.value if result.kind is not None else "?"
    period = f"{result.begin:%Y-%m-%d}…{result.end:%Y-%m-%d}" if result.begin and result.end else "—"
    stored = f"  [{result.stored.value}]" if result.stored is not None else ""
    return (
        f"ok  {kind}  {result.org_name}  {result.domain}  {period}  {result.records} records, "
        f"{result.messages} messages  {result.file}{stored}"
    )


class _Printer:
    """Prints each result as it comes (a long run shows progress) and keeps the tally."""

    def __init__(self, output_format: ListFormat) -> None:
        self.output_format = output_format
        self.rejected = self.reports = self.records = self.duplicates = 0

    def __call__(self, results: Iterable[ReportResult]) -> list[ReportResult]:
        seen = []
        for result in results:
            seen.append(result)
            duplicate = result.stored is Outcome.DUPLICATE
            self.duplicates += duplicate
            self.reports += result.ok and not duplicate
            self.rejected += not result.ok
            self.records += result.records if result.ok and not duplicate else 0
            text = (
                json.dumps(_document(result), ensure_ascii=False)
                if self.output_format is ListFormat.JSON
                else _line(result)
            )
            sys.stdout.write(text + "\n")
        sys.stdout.flush()
        return seen

    def total(self, verb: str) -> None:
        if self.output_format is ListFormat.TEXT:
            duplicates = f", {self.duplicates} already stored" if self.duplicates else ""
            sys.stdout.write(
                f"{verb} {self.reports} report(s), {self.records} record(s){duplicates}; {self.rejected} rejected\n"
            )

    def exit(self) -> None:
        if self.rejected:
            raise typer.Exit(1)


def _paths(paths: list[str]) -> list[Path]:
    found = [Path(p) for p in paths]
    missing = [str(p) for p in found if not p.exists()]
    if missing:
        raise InputError(f"no such file or directory: {', '.join(missing)}")
    return found


@dmarc_app.command()
def parse(paths: PathsArgument, output_format: ListFormatOption = ListFormat.TEXT) -> None:
    """Read reports and print what each holds, without storing anything."""
    printer = _Printer(output_format)
    with user_errors():
        printer(read_all(documents(_paths(paths))))
        printer.total("read")
    printer.exit()


@dmarc_app.command()
def ingest(
    paths: Annotated[
        list[str],
        typer.Argument(
            metavar="PATH|IMAP-URL...",
            help="Files, directories, or a mailbox as imaps://user@host/Folder (password: $MIMAWARI_IMAP_PASSWORD).",
        ),
    ],
    move_to: Annotated[
        str | None,
        typer.Option(metavar="FOLDER", help="IMAP: move processed messages there (default: flag them)."),
    ] = None,
    ca_file: Annotated[
        str | None, typer.Option(metavar="FILE", help="IMAP: CA certificates to verify the server with.")
    ] = None,
    output_format: ListFormatOption = ListFormat.TEXT,
    database: DatabaseOption = None,
) -> None:
    """Store reports, each once (the same report again is recognised and skipped)."""
    printer = _Printer(output_format)
    with user_errors(), opened(database) as store:
        urls = [p for p in paths if p.startswith(("imap://", "imaps://"))]
        files = [p for p in paths if p not in urls]
        if files:
            printer(read_all(documents(_paths(files)), store))
        for url in urls:
            _ingest_mailbox(url, store, printer, move_to, ca_file)
        printer.total("stored")
    printer.exit()


def _ingest_mailbox(
    url: str, store: Store, printer: _Printer, move_to: str | None, ca_file: str | None
) -> None:
    location = ImapLocation.parse(url)
    password = password_from_environment(location)
    after: Literal["flag", "move"] = "move" if move_to else "flag"
    with ImapSource(location, password, after=after, move_to=move_to, ca_file=ca_file) as source:
        printer(from_mailbox(source, store))


dmarc_app.command("summary")(summary_command)
dmarc_app.command("sources")(sources_command)
dmarc_app.command("readiness")(readiness_command)
