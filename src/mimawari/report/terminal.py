"""Findings for people at a terminal (Rich): grade first, then what was seen, the fix and its effect."""

from __future__ import annotations

from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text as RichText

from mimawari.model import Category, Finding, Grade, Lang, Severity, Text
from mimawari.report.document import INSUFFICIENT, letter, points, sections
from mimawari.scan import DomainReport
from mimawari.score import Score

GRADE_STYLE = {
    Grade.A: "bold green",
    Grade.B: "green",
    Grade.C: "bold yellow",
    Grade.D: "bold red",
    Grade.E: "bold white on red",
    Grade.NA: "dim",
    Grade.UNKNOWN: "bold magenta",
}
LABELS = {
    "evidence": Text("seen", "根拠"),
    "fix": Text("fix", "対処"),
    "after": Text("after fix", "対処後"),
}
PASSING = Text(
    "{passed} checks pass, {na} not applicable (--all shows them)",
    "{passed} 件の検査に合格、{na} 件は対象外（--all で表示）",
)


def render_finding(console: Console, finding: Finding, lang: Lang, gain: float | None = None) -> None:
    grade = letter(finding.grade)
    weight = INSUFFICIENT.get(lang) if finding.grade is Grade.UNKNOWN else finding.severity.value
    console.print(
        RichText.assemble(
            (f" {grade:^3} ", GRADE_STYLE[finding.grade]),
            "  ",
            (finding.title.get(lang), "bold"),
            (f"   {finding.check_id} · ", "dim"),
            (
                weight,
                "bold red" if finding.severity is Severity.CRITICAL and not finding.grade.passing else "dim",
            ),
        )
    )
    console.print(Padding(_prose(finding.summary.get(lang)), (0, 0, 0, 4)))
    rows = _grid()
    for item in finding.evidence:
        rows.add_row("", LABELS["evidence"].get(lang), _prose(f"{item.source} → {item.value}", "dim"))
    if finding.fix is not None:
        rows.add_row(
            "", RichText(LABELS["fix"].get(lang), style="cyan"), _prose(finding.fix.action.get(lang))
        )
    console.print(rows)
    if finding.fix is not None and finding.fix.snippet:
        # Soft-wrapped so that copying it from the terminal gives the record in one piece.
        for line in finding.fix.snippet.splitlines():
            console.print(" " * 15 + line, style="bold cyan", soft_wrap=True, markup=False)
    if finding.after_fix is not None:
        after, rows = finding.after_fix, _grid()
        effect = RichText.assemble(
            (f" {after.grade.value} ", GRADE_STYLE[after.grade]), " ", after.effect.get(lang), overflow="fold"
        )
        if gain:
            effect.append(f" ({GAIN.format(points=f'{gain:.1f}').get(lang)})", "bold green")
        rows.add_row("", RichText(LABELS["after"].get(lang), style="green"), effect)
        console.print(rows)


def _prose(text: str, style: str = "") -> RichText:
    # Japanese has no spaces to wrap at: a whole sentence is one "word", which Rich would cut with an
    # ellipsis inside a table cell. Folding keeps every character.
    return RichText(text, style=style, overflow="fold")


def _grid() -> Table:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=3)
    grid.add_column(width=10, style="dim", no_wrap=True)
    grid.add_column(ratio=1)
    return grid


CATEGORY_NAMES = {
    Category.EMAIL_DNS: Text("email DNS", "メール DNS"),
    Category.EMAIL_MTA: Text("MTA servers", "MTA サーバー"),
    Category.EMAIL_MAILBOX: Text("mailbox servers", "メールボックスサーバー"),
    Category.EMAIL_OTHER: Text("other", "その他"),
}
SCORE = Text("score", "スコア")
CAPPED = Text("capped by {checks}", "{checks} により上限")
GAIN = Text("+{points} points", "+{points} 点")


def badge(grade: Grade | None) -> RichText:
    """A grade as a coloured badge (``?`` for unknown, and for no grade at all)."""
    grade = grade or Grade.UNKNOWN
    return RichText(f" {letter(grade)} ", GRADE_STYLE[grade])


def render_score(console: Console, rating: Score, lang: Lang) -> None:
    """The overall score and letter, then each category's (red where action is needed)."""
    line = RichText.assemble(badge(rating.grade), f"  {SCORE.get(lang)} {points(rating.score)}/100")
    for category in rating.categories:
        value = (
            INSUFFICIENT.get(lang)
            if category.score is None and category.grade is Grade.UNKNOWN
            else points(category.score)
        )
        line.append("   ")
        line.append_text(badge(category.grade))
        line.append(f" {CATEGORY_NAMES[category.category].get(lang)} {value}")
        if category.capped_by:
            line.append(f" ({CAPPED.format(checks=', '.join(category.capped_by)).get(lang)})", "red")
    console.print(line, overflow="fold")


def render_report(
    console: Console, report: DomainReport, lang: Lang = "en", *, show_passing: bool = False
) -> None:
    """The score, then every finding that needs attention in full, the best next step first (by
    ``score.prioritise``), unknown ones after them; passing ones in full or as one line."""
    console.rule(RichText(report.domain, style="bold"), align="left")
    if report.score is not None:
        render_score(console, report.score, lang)
    parts = sections(report)
    for entry in parts.to_fix:
        render_finding(console, entry.finding, lang, entry.gain)
    for finding in parts.unknown:
        render_finding(console, finding, lang)
    passing = parts.passing
    if show_passing:
        for finding in passing:
            render_finding(console, finding, lang)
    elif passing:
        counts = PASSING.format(
            passed=sum(f.grade is Grade.A for f in passing), na=sum(f.grade is Grade.NA for f in passing)
        )
        console.print(RichText(f" ✓   {counts.get(lang)}", style="green"))
    console.print()
