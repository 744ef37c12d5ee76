"""``mimawari diff ORG``: what changed between two complete scans of an organisation."""

from __future__ import annotations

import json
from datetime import UTC
from typing import Annotated

import typer
from rich.text import Text as RichText

from mimawari.cli_console import ListFormat, ListFormatOption, out, user_errors
from mimawari.cli_options import (
    LangOption,
    Language,
    lang_of,
)
from mimawari.cli_org import DatabaseOption, NameArgument, opened
from mimawari.errors import InputError
from mimawari.model import Grade, Lang, Text
from mimawari.monitor.diff import DomainDiff, FindingChange, ScanDiff, diff_reports
from mimawari.report.document import points
from mimawari.report.terminal import CATEGORY_NAMES, badge
from mimawari.scan import DomainReport
from mimawari.serial import to_jsonable
from mimawari.store import ScanRecord, Store

LABELS = {
    "rules": Text("scoring rules changed", "採点ルールの変更"),
    "domain added": Text("domain added", "追加されたドメイン"),
    "domain removed": Text("domain removed", "外れたドメイン"),
    "nothing": Text("nothing changed", "変化なし"),
    "backwards": Text(
        "--from is the later scan: the changes are shown backwards",
        "--from の方が新しいスキャンです。変化を逆向きに表示します",
    ),
    "grades": Text("grades", "評価"),
    "new": Text("new", "新規"),
    "worse": Text("worse", "悪化"),
    "better": Text("better", "改善"),
    "resolved": Text("resolved", "解消"),
    "undetermined": Text(
        "not determined in one of the scans (neither fixed nor new)",
        "どちらかのスキャンで判定できず（解消とも新規ともしない）",
    ),
    "added": Text("added", "追加"),
    "removed": Text("removed", "削除"),
    "unconfirmed": Text("not confirmed (no answer this time)", "未確認（今回は応答なし）"),
    "certificate": Text("new certificate on", "証明書の入れ替え:"),
    "dmarc": Text("DMARC weakened", "DMARC の弱体化"),
}


def _label(key: str, lang: Lang) -> str:
    return LABELS[key].get(lang)


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
    if (before.started_at, before.id) > (after.started_at, after.id):
        out.print(f"  {_label('backwards', lang)}", markup=False)
    if before.rules_version != after.rules_version:
        out.print(f"  {_label('rules', lang)}: {before.rules_version} → {after.rules_version}", markup=False)
    for domain in changes.added_domains:
        out.print(f"  {_label('domain added', lang)}: {domain}", markup=False)
    for domain in changes.removed_domains:
        out.print(f"  {_label('domain removed', lang)}: {domain}", markup=False)
    for change in changes.domains:
        _render_domain(change, lang)
    if changes.empty:
        out.print(f"  {_label('nothing', lang)}", markup=False)


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
        out.print(f"  {_label('grades', lang)}: {'; '.join(grades)}", markup=False)
    for key, findings in (
        ("new", change.new),
        ("worse", change.worse),
        ("better", change.better),
        ("resolved", change.resolved),
    ):
        for finding in findings:
            out.print(f"  {_label(key, lang)}: {_finding(finding, lang)}", markup=False)
    if change.undetermined:
        ids = ", ".join(f.check_id for f in change.undetermined)
        out.print(f"  {_label('undetermined', lang)}: {ids}", markup=False)
    for key, assets in (
        ("added", change.added),
        ("removed", change.removed),
        ("unconfirmed", change.unconfirmed),
    ):
        for asset in assets:
            out.print(f"  {_label(key, lang)}: {asset.text.get(lang)}", markup=False)
    for certificate in change.certificates:
        out.print(
            f"  {_label('certificate', lang)} {certificate.endpoint}: {certificate.before.fingerprint[:16]}… → "
            f"{certificate.after.fingerprint[:16]}…",
            markup=False,
        )
    if change.dmarc_weakened and change.dmarc_before is not None and change.dmarc_after is not None:
        stances = f"{change.dmarc_before.describe()} → {change.dmarc_after.describe()}"
        out.print(f"  {_label('dmarc', lang)}: {stances}", markup=False)
        for reason in change.dmarc_weakened:
            out.print(f"    {reason.get(lang)}", markup=False)


def _letter(grade: Grade | None) -> str:
    return "—" if grade is None else grade.value


def _finding(change: FindingChange, lang: Lang) -> str:
    # The finding that needs (or needed) action: a resolved one is shown as the problem it was.
    failing = [f for f in (change.after, change.before) if f is not None and not f.grade.passing]
    finding = failing[0] if failing else change.current
    grades = f"{_letter(change.grade_before)} → {_letter(change.grade_after)}"
    return f"[{finding.severity.value}] {finding.title.get(lang)} ({finding.check_id}, {grades})"
