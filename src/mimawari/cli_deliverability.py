"""``mimawari deliverability``: import daily spam-complaint figures and show them with their grade.

``import postmaster`` reads the Google Postmaster Tools API (token in ``$MIMAWARI_POSTMASTER_TOKEN``) or a
saved response (``--file``); ``import snds`` a Microsoft SNDS CSV export; ``import arf`` complaint-feedback
e-mails with the sent volume. Each import stores a day of a source once and updates it when imported
again. ``show`` prints the daily series and the grade ``email.other.spam_rate`` gives it today. Input
errors are one line with exit code 2; the API failing on Google's side exits 3.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from mimawari.cli_console import ListFormat, ListFormatOption, err, existing_paths, out, user_errors
from mimawari.cli_org import DatabaseOption, opened
from mimawari.deliverability import arf, postmaster, snds
from mimawari.deliverability.grading import assess, percent
from mimawari.errors import InputError
from mimawari.model import SpamRateDay
from mimawari.parse.names import normalize_domain
from mimawari.store import Store

API_ENV = "MIMAWARI_POSTMASTER_API"
"""Another base URL for the Postmaster Tools API (a proxy, or the tests' loopback server)."""

deliverability_app = typer.Typer(
    help="Spam-complaint figures: Google Postmaster Tools, Microsoft SNDS, complaint feedback (ARF).",
    no_args_is_help=True,
)
import_app = typer.Typer(help="Import daily spam-complaint figures into the store.", no_args_is_help=True)
deliverability_app.add_typer(import_app, name="import")

DomainOption = Annotated[
    str, typer.Option("--domain", metavar="DOMAIN", help="The sending domain the figures are for.")
]
DaysOption = Annotated[
    int, typer.Option("--days", min=1, max=3650, metavar="N", help="Days back from today.")
]


def _store(domain: str, figures: tuple[SpamRateDay, ...], what: str, database: str | None) -> None:
    if not figures:
        raise InputError(f"no {what} figures for {domain} to import")
    with opened(database) as store:
        done = store.deliverability.add(domain, figures)
    source = figures[0].source
    out.print(
        f"{source}: {done.days} day(s) for {domain}, {figures[0].day} to {figures[-1].day} "
        f"({done.added} new, {done.updated} updated, {done.unchanged} unchanged)",
        markup=False,
    )


@import_app.command("postmaster")
def import_postmaster(
    domain: DomainOption,
    days: DaysOption = 30,
    file: Annotated[
        Path | None,
        typer.Option("--file", metavar="FILE", help="A saved API response instead of asking the API."),
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Google Postmaster Tools: the daily user-reported spam rate (API, or a saved response)."""
    with user_errors():
        if file is not None:
            figures = postmaster.read_file(file, domain)
        else:
            token = postmaster.token_from_environment()
            today = datetime.now(UTC).date()
            base = os.environ.get(API_ENV, "").strip() or postmaster.API
            # endDate is exclusive; today's figures are never ready yet.
            figures = postmaster.fetch(domain, today - timedelta(days=days), today, token, base_url=base)
        _store(domain, figures, "Postmaster Tools", database)


@import_app.command("snds")
def import_snds(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The SNDS CSV export.")],
    domain: DomainOption,
    database: DatabaseOption = None,
) -> None:
    """Microsoft SNDS: per-IP daily rows combined into one figure a day, weighted by recipients."""
    with user_errors():
        _store(domain, snds.read_file(file), "SNDS", database)


@import_app.command("arf")
def import_arf(
    paths: Annotated[list[str], typer.Argument(metavar="PATH...", help="ARF e-mails, mbox files, Maildirs.")],
    domain: DomainOption,
    sent: Annotated[
        int | None, typer.Option("--sent", min=1, metavar="N", help="Messages sent a day (every day).")
    ] = None,
    sent_file: Annotated[
        Path | None, typer.Option("--sent-file", metavar="CSV", help="Messages sent per day: day,sent rows.")
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Complaint feedback (ARF abuse reports, Yahoo CFL): complaints per day over the sent volume."""
    skipped = 0
    with user_errors():
        if (sent is None) == (sent_file is None):
            raise InputError("give the sent volume: --sent N or --sent-file CSV (one of them)")
        volume = arf.read_sent_file(sent_file) if sent_file is not None else sent or 0
        found: list[arf.Complaint] = []
        for item in arf.complaints(existing_paths(paths)):
            if isinstance(item, arf.Skipped):
                skipped += 1
                err.print(f"skipped {item.origin}: {item.reason}", markup=False, soft_wrap=True)
            else:
                found.append(item)
        name = normalize_domain(domain)
        about = [c for c in found if c.concerns(name)]
        if len(about) < len(found):
            err.print(f"{len(found) - len(about)} complaint(s) about other domains ignored", markup=False)
        figures = arf.daily(about, name, volume)
        _store(domain, figures, "complaint", database)
    if skipped:
        raise typer.Exit(1)


@deliverability_app.command("show")
def show(
    domain: Annotated[str, typer.Argument(help="The sending domain.", show_default=False)],
    days: DaysOption = 30,
    output_format: ListFormatOption = ListFormat.TEXT,
    database: DatabaseOption = None,
) -> None:
    """The daily spam-complaint figures and the grade they give today."""
    with user_errors(), opened(database) as store:
        _show(store, normalize_domain(domain), days, output_format)


def _show(store: Store, domain: str, days: int, output_format: ListFormat) -> None:
    now = datetime.now(UTC)
    summary = store.deliverability.series(domain, days, now)
    assessment = assess(summary, now.date())
    series = summary.series if summary else ()
    if output_format is ListFormat.JSON:
        document = {
            "domain": domain,
            "days": days,
            "grade": assessment.grade.value,
            "latest_day": assessment.latest_day or None,
            "stale_days": assessment.stale_days,
            "worst": _figure(assessment.worst) if assessment.worst else None,
            "series": [_figure(f) for f in series],
        }
        out.print(json.dumps(document, ensure_ascii=False), markup=False, soft_wrap=True)
        return
    out.print(
        f"{domain}: spam-complaint rate, last {days} days: grade {assessment.grade.value}", markup=False
    )
    if assessment.worst is not None:
        worst = assessment.worst
        line = f"  worst of the 7 days up to {assessment.latest_day}: {percent(worst)} on {worst.day} ({worst.source})"
        out.print(line, markup=False)
    if assessment.stale_days:
        out.print(f"  the latest figure is {assessment.stale_days} days old: too old to grade", markup=False)
    if not series:
        out.print("  no figures stored (mimawari deliverability import …)", markup=False)
        return
    out.print(f"  {'day':<10}  {'source':<17}  {'rate':>9}  {'complaints':>10}  {'volume':>12}", markup=False)
    for figure in series:
        complaints = f"{figure.complaints:,}" if figure.complaints is not None else ""
        volume = f"{figure.volume:,}" if figure.volume is not None else ""
        out.print(
            f"  {figure.day:<10}  {figure.source:<17}  {percent(figure):>9}  {complaints:>10}  {volume:>12}",
            markup=False,
        )


def _figure(figure: SpamRateDay) -> dict[str, object]:
    return {
        "day": figure.day,
        "source": figure.source,
        "rate": figure.rate,
        "upper_bound": figure.upper_bound,
        "complaints": figure.complaints,
        "volume": figure.volume,
    }
