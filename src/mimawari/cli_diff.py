"""``mimawari diff ORG``: what changed between two complete scans of an organisation."""

from __future__ import annotations

import json
from datetime import UTC
from typing import Annotated

import typer
from rich.text import Text as RichText

from mimawari.cli_monitor import ListFormat, ListFormatOption
from mimawari.cli_options import LangOption, Language, lang_of, out, user_errors
from mimawari.cli_org import DatabaseOption, NameArgument, opened
from mimawari.errors import InputError
from mimawari.model import Grade, Lang
from mimawari.monitor.diff import DomainDiff, FindingChange, ScanDiff, diff_reports
from mimawari.report.document import points
from mimawari.report.terminal import CATEGORY_NAMES, badge
from mimawari.scan import DomainReport
from mimawari.serial import to_jsonable
from mimawari.store import ScanRecord, Store


def _pick(scans: list[ScanRecord], wanted: int | None, default: int, name: str) -> ScanRecord:
    if wanted is None:
        return scans[default]
    found = next((s for s in scans if s.id == wanted), None)
    if found is None:
        ids = ", ".join(str(s.id) for s in scans[-10:])
        raise InputError(f"scan {wanted} is not a complete scan of {name} (recent ones: {ids})")
    return found


def _reports(store: Store, scan: ScanRecord) -> dict[str, DomainReport]:
    return {t.domain: store.load_report(scan.id, t.domain) for t in scan.targets}


def diff(
    name: NameArgument,
    from_scan: Annotated[
        int | None,
        typer.Option("--from", metavar="SCAN", help="The earlier scan. Default: the one before --to."),
    ] = None,
    to_scan: Annotated[
        int | None,
        typer.Option("--to", metavar="SCAN", help="The later scan. Default: the latest complete one."),
    ] = None,
    output_format: ListFormatOption = ListFormat.TEXT,
    lang: LangOption = Language.EN,
    database: DatabaseOption = None,
) -> None:
    """New and resolved findings, grade changes, new and removed assets between two complete scans."""
    with user_errors(), opened(database) as store:
        store.get_organisation(name)
        scans = store.scans(name)
        if len(scans) < 2 and (from_scan is None or to_scan is None):
            raise InputError(f"{name} needs two complete scans to compare; it has {len(scans)}")
        after = _pick(scans, to_scan, -1, name)
        earlier = [
            s
            for s in scans
            if s.started_at < after.started_at or (s.started_at == after.started_at and s.id < after.id)
        ]
        if from_scan is None and not earlier:
            raise InputError(f"scan {after.id} is the first complete scan of {name}: name --from")
        before = _pick(scans, from_scan, scans.index(earlier[-1]) if earlier else 0, name)
        if before.id == after.id:
            raise InputError("--from and --to name the same scan")
        changes = diff_reports(_reports(store, before), _reports(store, after))
        if output_format is ListFormat.JSON:
            document = {"organisation": name, "from": before.id, "to": after.id, "diff": to_jsonable(changes)}
            out.print_json(json.dumps(document, ensure_ascii=False))
            return
        _render(name, before, after, changes, lang_of(lang))


def _scan(scan: ScanRecord) -> str:
    return f"scan {scan.id} ({scan.started_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC)"


def _render(name: str, before: ScanRecord, after: ScanRecord, changes: ScanDiff, lang: Lang) -> None:
    out.print(f"{name}: {_scan(before)} → {_scan(after)}", markup=False)
    if before.rules_version != after.rules_version:
        out.print(f"  scoring rules changed: {before.rules_version} → {after.rules_version}", markup=False)
    for domain in changes.added_domains:
        out.print(f"  domain added: {domain}", markup=False)
    for domain in changes.removed_domains:
        out.print(f"  domain removed: {domain}", markup=False)
    for change in changes.domains:
        _render_domain(change, lang)
    if changes.empty:
        out.print("  nothing changed", markup=False)


def _render_domain(change: DomainDiff, lang: Lang) -> None:
    score = change.score
    line = RichText.assemble(
        change.domain,
        "  ",
        badge(score.grade_before),
        f" {points(score.score_before)} → ",
        badge(score.grade_after),
        f" {points(score.score_after)}",
    )
    if score.score_before is not None and score.score_after is not None:
        line.append(f" ({score.score_after - score.score_before:+.1f})")
    out.print(line)
    grades = [
        f"{CATEGORY_NAMES[c.category].get(lang)} {_letter(c.grade_before)} → {_letter(c.grade_after)}"
        for c in change.categories
        if c.grade_before != c.grade_after
    ]
    if grades:
        out.print(f"  grades: {'; '.join(grades)}", markup=False)
    for label, findings in (
        ("new", change.new),
        ("worse", change.worse),
        ("better", change.better),
        ("resolved", change.resolved),
    ):
        for finding in findings:
            out.print(f"  {label}: {_finding(finding, lang)}", markup=False)
    if change.undetermined:
        ids = ", ".join(f.check_id for f in change.undetermined)
        out.print(f"  not determined in one of the scans (neither fixed nor new): {ids}", markup=False)
    for label, assets in (("added", change.added), ("removed", change.removed)):
        for asset in assets:
            out.print(f"  {label}: {asset.text.get(lang)}", markup=False)
    for asset in change.unconfirmed:
        out.print(f"  not confirmed (no answer this time): {asset.text.get(lang)}", markup=False)
    for certificate in change.certificates:
        out.print(
            f"  new certificate on {certificate.endpoint}: {certificate.before.fingerprint[:16]}… → "
            f"{certificate.after.fingerprint[:16]}…",
            markup=False,
        )
    if change.dmarc_weakened and change.dmarc_before is not None and change.dmarc_after is not None:
        out.print(
            f"  DMARC weakened: {change.dmarc_before.describe()} → {change.dmarc_after.describe()}",
            markup=False,
        )
        for reason in change.dmarc_weakened:
            out.print(f"    {reason.get(lang)}", markup=False)


def _letter(grade: Grade | None) -> str:
    return "—" if grade is None else grade.value


def _finding(change: FindingChange, lang: Lang) -> str:
    finding = change.current
    grades = f"{_letter(change.grade_before)} → {_letter(change.grade_after)}"
    return f"[{finding.severity.value}] {finding.title.get(lang)} ({finding.check_id}, {grades})"
