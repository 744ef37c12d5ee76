"""``mimawari dmarc parse``: read reports and print what each holds, without storing anything.

The hot path of large report batches, so this module imports only the parsers: ``mimawari.entry`` runs
``parse_app`` directly, without the scanner, the store and the monitor (see ``docs/bench.md``). ``dmarc
ingest`` prints its results with the same ``Printer``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from mimawari.cli_console import (
    JobsOption,
    ListFormat,
    ListFormatOption,
    existing_paths,
    in_processes,
    user_errors,
)
from mimawari.dmarc.containers import FileUnit, Unreadable, files
from mimawari.dmarc.ingest import ReportResult, read_all, unreadable
from mimawari.dmarc.model import Outcome

PathsArgument = Annotated[
    list[str],
    typer.Argument(metavar="PATH", help="Files or directories (xml, gz, zip, json, eml, mbox, Maildir)."),
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


class Printer:
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


CHUNK = 8
"""Files handed to a worker at once: few enough to keep the workers even, enough to keep the hand-over
cheap next to the parsing."""


def _read(unit: FileUnit | Unreadable) -> list[ReportResult]:
    """One file's results (in a worker process)."""
    return [unreadable(unit)] if isinstance(unit, Unreadable) else list(read_all(unit.documents()))


def read_in_parallel(paths: list[Path], jobs: int) -> Iterator[ReportResult]:
    """Every report in ``paths``, in the order ``documents`` gives them; the files are parsed by ``jobs``
    processes (parsing is CPU-bound: threads would share one core)."""
    units = list(files(paths))
    for results in in_processes(_read, units, jobs, CHUNK):
        yield from results


def parse(
    paths: PathsArgument, output_format: ListFormatOption = ListFormat.TEXT, jobs: JobsOption = None
) -> None:
    """Read reports and print what each holds, without storing anything."""
    printer = Printer(output_format)
    with user_errors():
        printer(read_in_parallel(existing_paths(paths), jobs or os.cpu_count() or 1))
        printer.total("read")
    printer.exit()


parse_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)
parse_app.command()(parse)
