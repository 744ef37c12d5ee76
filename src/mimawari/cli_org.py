"""``mimawari org add|list|show|remove`` and ``mimawari history``: the organisations a user watches, over time."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text as RichText

from mimawari.cli_console import out, user_errors
from mimawari.config import database_url
from mimawari.model import Category, Grade
from mimawari.report.document import points
from mimawari.report.terminal import CATEGORY_NAMES, badge
from mimawari.score import letter, organisation_score
from mimawari.store import Criticality, Organisation, Relation, ScanRecord, Store, TargetSummary, open_store

org_app = typer.Typer(
    help="Organisations to watch: your own, group companies, suppliers.", no_args_is_help=True
)

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database",
        metavar="URL",
        help="Database URL. Default: $MIMAWARI_DATABASE_URL, else a SQLite file in the user data directory.",
    ),
]


def opened(database: str | None) -> Store:
    """The store of ``--database``, else ``$MIMAWARI_DATABASE_URL``, else the configuration's, else the
    default SQLite file."""
    return open_store(database_url(database))


NameArgument = Annotated[str, typer.Argument(help="The organisation's name.", show_default=False)]
SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(scores: list[float | None]) -> str:
    """One character per scan, on the 0–100 scale (a gap for a scan without a score)."""
    return "".join(
        " " if s is None else SPARKS[min(int(s / 100 * len(SPARKS)), len(SPARKS) - 1)] for s in scores
    )


@org_app.command("add")
def org_add(
    name: NameArgument,
    domain: Annotated[list[str], typer.Option(metavar="DOMAIN", help="A domain it owns; repeatable.")],
    relation: Annotated[Relation, typer.Option(help="Who it is to you.")] = Relation.OTHER,
    criticality: Annotated[Criticality, typer.Option(help="How much you depend on it.")] = Criticality.MEDIUM,
    netblock: Annotated[
        list[str] | None, typer.Option(metavar="CIDR", help="A network it owns; repeatable.")
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option(metavar="TAG", help="A label to filter by; repeatable.")
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Add an organisation with its domains."""
    with user_errors(), opened(database) as store:
        added = store.add_organisation(
            Organisation(name, relation, criticality, tuple(domain), tuple(netblock or ()), tuple(tag or ()))
        )
        out.print(f"added {added.name} ({added.relation.value}): {', '.join(added.domains)}", markup=False)


@org_app.command("list")
def org_list(
    relation: Annotated[Relation | None, typer.Option(help="Only this relation.")] = None,
    tag: Annotated[str | None, typer.Option(metavar="TAG", help="Only organisations with this tag.")] = None,
    database: DatabaseOption = None,
) -> None:
    """List the organisations, with the score of their latest complete scan."""
    with user_errors(), opened(database) as store:
        table = Table("name", "relation", "criticality", "domains", "tags", "latest score", box=None)
        for organisation in store.list_organisations(relation, tag):
            latest = store.latest_scan(organisation.name)
            table.add_row(
                organisation.name,
                organisation.relation.value,
                organisation.criticality.value,
                ", ".join(organisation.domains),
                ", ".join(organisation.tags),
                _latest(latest),
            )
        out.print(table)


def _latest(scan: ScanRecord | None) -> str:
    if scan is None:
        return "not scanned"
    score = organisation_score(t.score for t in scan.targets)
    when = f"{scan.started_at:%Y-%m-%d}"
    return f"{score:.1f} {letter(score).value} ({when})" if score is not None else f"no score ({when})"


@org_app.command("show")
def org_show(name: NameArgument, database: DatabaseOption = None) -> None:
    """Show an organisation and its latest complete scan."""
    with user_errors(), opened(database) as store:
        organisation = store.get_organisation(name)
        out.print(
            f"{organisation.name}: {organisation.relation.value}, criticality {organisation.criticality.value}"
        )
        out.print(f"  domains: {', '.join(organisation.domains)}", markup=False)
        if organisation.netblocks:
            out.print(f"  netblocks: {', '.join(organisation.netblocks)}", markup=False)
        if organisation.tags:
            out.print(f"  tags: {', '.join(organisation.tags)}", markup=False)
        latest = store.latest_scan(name)
        if latest is None:
            out.print("  not scanned yet: mimawari scan --org " + name, markup=False)
            return
        out.print(
            f"  latest scan {latest.id}, {latest.started_at:%Y-%m-%d %H:%M} UTC, rules {latest.rules_version}"
        )
        for target in latest.targets:
            out.print(
                RichText.assemble("   ", badge(target.grade), f" {target.domain} {points(target.score)}")
            )


@org_app.command("remove")
def org_remove(name: NameArgument, database: DatabaseOption = None) -> None:
    """Remove an organisation and its stored scans."""
    with user_errors(), opened(database) as store:
        store.remove_organisation(name)
        out.print(f"removed {name}", markup=False)


def history(name: NameArgument, database: DatabaseOption = None) -> None:
    """Score and grades of each domain of an organisation, and of each category, over its complete
    scans, oldest first."""
    with user_errors(), opened(database) as store:
        store.get_organisation(name)
        scans = store.scans(name)
        if not scans:
            out.print(f"{name} has no complete scan yet: mimawari scan --org {name}", markup=False)
            return
        domains = list(dict.fromkeys(t.domain for scan in scans for t in scan.targets))
        # Each column names its scan's id, which diff --from / --to take.
        columns = (f"#{s.id} {s.started_at:%m-%d %H:%M}" for s in scans[-6:])
        table = Table("domain", "trend", *columns, box=None)
        for domain in domains:
            row = [next((t for t in s.targets if t.domain == domain), None) for s in scans]
            _history_row(table, domain, [(t.grade, t.score) if t is not None else None for t in row])
            for category in Category:
                grades = [_category(t, category) for t in row]
                if any(g is not None for g in grades):
                    _history_row(table, f"  {CATEGORY_NAMES[category].en}", grades)
        out.print(
            f"{name}: {len(scans)} complete scan(s), the last six shown; trend over all of them", markup=False
        )
        out.print(table)


def _category(target: TargetSummary | None, category: Category) -> tuple[Grade | None, float | None] | None:
    found = next((c for c in target.categories if c.category is category), None) if target else None
    return (found.grade, found.score) if found is not None else None


def _history_row(table: Table, label: str, values: list[tuple[Grade | None, float | None] | None]) -> None:
    """One line of the history: a sparkline over every scan, the grade and score of the last six."""
    cells = [
        RichText("—") if v is None else RichText.assemble(badge(v[0]), f" {points(v[1])}")
        for v in values[-6:]
    ]
    table.add_row(label, sparkline([v[1] if v is not None else None for v in values]), *cells)
