"""``mimawari dmarc``: DMARC aggregate, failure and SMTP TLS reports from files, mailboxes and IMAP.

``parse`` (``cli_dmarc_parse``) reads without storing and prints one result per report found
(``--format json``: one JSON object per line). ``ingest`` stores them, each report once; from IMAP, a
message is flagged or moved only after its reports are committed. Exit code 1 when a report was rejected
(malformed, truncated, hostile).
"""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from mimawari.cli_console import ListFormat, ListFormatOption, existing_paths, user_errors
from mimawari.cli_dmarc_parse import Printer, parse
from mimawari.cli_dmarc_report import readiness_command, sources_command, summary_command
from mimawari.cli_org import DatabaseOption, opened
from mimawari.dmarc.containers import documents
from mimawari.dmarc.imap import ImapLocation, ImapSource, password_from_environment
from mimawari.dmarc.ingest import from_mailbox, read_all
from mimawari.store import Store

dmarc_app = typer.Typer(help="DMARC aggregate, failure and SMTP TLS reports.", no_args_is_help=True)


@dmarc_app.command()
def ingest(
    paths: Annotated[
        list[str],
        typer.Argument(
            metavar="PATH|IMAP-URL",
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
    printer = Printer(output_format)
    with user_errors(), opened(database) as store:
        urls = [p for p in paths if p.startswith(("imap://", "imaps://"))]
        files = [p for p in paths if p not in urls]
        if files:
            printer(read_all(documents(existing_paths(files)), store))
        for url in urls:
            _ingest_mailbox(url, store, printer, move_to, ca_file)
        printer.total("stored")
    printer.exit()


def _ingest_mailbox(
    url: str, store: Store, printer: Printer, move_to: str | None, ca_file: str | None
) -> None:
    location = ImapLocation.parse(url)
    password = password_from_environment(location)
    after: Literal["flag", "move"] = "move" if move_to else "flag"
    with ImapSource(location, password, after=after, move_to=move_to, ca_file=ca_file) as source:
        printer(from_mailbox(source, store))


dmarc_app.command()(parse)
dmarc_app.command("summary")(summary_command)
dmarc_app.command("sources")(sources_command)
dmarc_app.command("readiness")(readiness_command)
