"""Where a scan's reports go: the terminal, a file, in one of the output formats; and ``--fail-under``.

Text and JSON stream (each report is written when it arrives, so memory stays flat over many domains);
HTML, Markdown and SARIF are whole documents, written once every report is in.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import TextIO

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from mimawari.cli_console import err, out
from mimawari.cli_options import (
    OutputFormat,
)
from mimawari.errors import InputError
from mimawari.model import Lang
from mimawari.report import html as html_report
from mimawari.report import json as json_report
from mimawari.report import markdown as markdown_report
from mimawari.report import sarif as sarif_report
from mimawari.report import terminal
from mimawari.scan import DomainReport

WHOLE_DOCUMENTS = (OutputFormat.HTML, OutputFormat.MARKDOWN, OutputFormat.SARIF)


@dataclass
class Emitted:
    """What was written: each domain's score (for ``--fail-under``), and the reports when kept."""

    scores: list[tuple[str, float | None]] = field(default_factory=list)
    reports: list[DomainReport] = field(default_factory=list)


@contextlib.contextmanager
def destination(path: str | None) -> Iterator[TextIO]:
    """stdout, or the ``--output`` file (written whole, UTF-8); a file that cannot be written is one line."""
    if path is None:
        yield sys.stdout
        return
    try:
        handle = open(path, "w", encoding="utf-8")  # noqa: SIM115  (closed below, after the write)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}") from None
    with handle:
        yield handle


def render_document(reports: list[DomainReport], output_format: OutputFormat, lang: Lang) -> str:
    if output_format is OutputFormat.HTML:
        return html_report.render(reports, lang)
    if output_format is OutputFormat.MARKDOWN:
        return markdown_report.render(reports, lang)
    return json.dumps(sarif_report.render(reports, lang=lang), ensure_ascii=False, indent=2) + "\n"


async def emit(
    reports: AsyncIterator[DomainReport],
    total: int,
    output_format: OutputFormat,
    lang: Lang,
    *,
    show_passing: bool = False,
    output: str | None = None,
    keep: bool = False,
) -> Emitted:
    """Write the reports as ``output_format`` to stdout or ``output``, with a progress bar on a terminal."""
    emitted = Emitted()
    to_terminal = output_format is OutputFormat.TEXT and output is None
    console = out if to_terminal else err
    columns = (TextColumn("scanning"), BarColumn(), MofNCompleteColumn())
    with (
        destination(output) as handle,
        Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as progress,
    ):
        task = progress.add_task("scan", total=total)
        text = (
            out
            if to_terminal
            else Console(file=handle, width=100, no_color=True, highlight=False, emoji=False)
        )

        async def counted() -> AsyncIterator[DomainReport]:
            async for report in reports:
                progress.advance(task)
                emitted.scores.append((report.domain, report.score.score if report.score else None))
                if keep or output_format in WHOLE_DOCUMENTS:
                    emitted.reports.append(report)
                yield report

        if output_format is OutputFormat.JSON:
            await json_report.write(counted(), handle)
        elif output_format is OutputFormat.TEXT:
            async for report in counted():
                terminal.render_report(text, report, lang, show_passing=show_passing)
        else:
            async for _ in counted():
                pass
            handle.write(render_document(emitted.reports, output_format, lang))
    return emitted


def check_fail_under(scores: list[tuple[str, float | None]], threshold: float | None) -> None:
    """``--fail-under N``: exit 1 when a domain scores under N, or could not be scored at all."""
    if threshold is None:
        return
    failing = [(domain, value) for domain, value in scores if value is None or value < threshold]
    if failing:
        described = ", ".join(
            f"{domain} {'has no score (insufficient data)' if value is None else f'scores {value:.1f}'}"
            for domain, value in failing
        )
        err.print(f"mimawari: under --fail-under {threshold:g}: {described}", markup=False, soft_wrap=True)
        raise typer.Exit(1)
