"""The Markdown report (GitHub-flavoured): for a pull request, an issue, a wiki page or a chat.

The same content and order as the HTML report: per domain a score line and a category table, then the
findings that need action, the best next step first, each with evidence, the fix in a fenced block and
what the fix is worth; passing and N/A checks in a folded table. Scanned values are escaped where they
would break the structure: Markdown punctuation in text, pipes in tables, backticks in code.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

from mimawari.model import Finding, Grade, Lang
from mimawari.report import document as doc
from mimawari.report.terminal import CATEGORY_NAMES, GAIN, LABELS, SCORE
from mimawari.scan import DomainReport

MARKS = {
    Grade.A: "🟢",
    Grade.B: "🟢",
    Grade.C: "🟡",
    Grade.D: "🔴",
    Grade.E: "🔴",
    Grade.NA: "⚪",
    Grade.UNKNOWN: "❔",
}
"""Markdown has no colours: the marks stand in for the HTML report's (red where action is needed)."""


def render(reports: Sequence[DomainReport], lang: Lang, *, title: str | None = None) -> str:
    """The whole document for ``reports``, in ``lang``. Pure: same reports, same text."""
    heading = title if title is not None else doc.title(reports, lang)
    lines = [f"# {_inline(heading)}", "", _inline(" · ".join(doc.header_facts(reports, lang))), ""]
    if len(reports) > 1:
        lines += _overview(reports, lang)
    for report in reports:
        lines += _domain(report, lang)
    lines += ["---", ""]
    for text in doc.GRADE_GUIDE:
        before, found, after = text.get(lang).partition(doc.SCORING_DOC)
        lines += [_inline(before) + (f"`{found}`" if found else "") + _inline(after), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


# --- escaping ---------------------------------------------------------------------------------------------

_PUNCTUATION = re.compile(r"[\\`*\[\]<>|~#]|(?<!\w)_|_(?!\w)|&(?=#?\w+;)")
_BLOCK_START = re.compile(r"^(?P<space>\s*)(?:(?P<mark>[-+=])|(?P<number>\d+)(?P<dot>[.)]))")
"""A leading list marker (``-``, ``+``, ``1.``, ``1)``) or setext underline: its punctuation is escaped."""


def _inline(text: str) -> str:
    """Scanned text as literal Markdown on one line: punctuation that would make emphasis, links, HTML,
    code or table cells is backslash-escaped, and a leading list or heading marker too."""
    flat = " ".join(doc.visible(text).splitlines())
    escaped = _PUNCTUATION.sub(lambda m: "\\" + m.group(0), flat)
    return _BLOCK_START.sub(_unblock, escaped, count=1)


def _unblock(match: re.Match[str]) -> str:
    if match["mark"]:
        return match["space"] + "\\" + match["mark"]
    return match["space"] + match["number"] + "\\" + match["dot"]


def _code(value: str) -> str:
    """An inline code span that holds ``value`` verbatim, whatever backticks it contains (CommonMark
    §6.1: the fence is longer than any run inside, and one space each side is stripped)."""
    value = " ".join(doc.visible(value).splitlines())
    if not value:
        return "—"
    fence = "`" * (max(map(len, re.findall(r"`+", value)), default=0) + 1)
    pad = " " if value[0] in "` " or value[-1] in "` " else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def _cell(markdown: str) -> str:
    """Inside a table a pipe ends the cell, even inside a code span (GFM tables): escape the rest."""
    return re.sub(r"(?<!\\)\|", r"\\|", markdown)


def _fenced(text: str, indent: str = "") -> list[str]:
    """A fenced block longer than any backtick run in ``text``, so that no line of it can close it."""
    body = doc.visible(text).rstrip("\n")
    fence = "`" * max(3, max(map(len, re.findall(r"`+", body)), default=0) + 1)
    return [indent + fence, *(indent + line if line else "" for line in body.split("\n")), indent + fence]


def _link(label: str, url: str) -> str:
    if doc.web_link(url) and not any(c in url for c in "<>"):
        return f"[{_inline(label)}](<{url}>)"
    return f"{_inline(label)} ({_code(url)})"


def _grade(grade: Grade) -> str:
    return f"{MARKS[grade]} **{doc.letter(grade)}**"


# --- the document -----------------------------------------------------------------------------------------


def _table(head: Iterable[str], rows: Iterable[Iterable[str]]) -> list[str]:
    header = list(head)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in rows]
    return [*lines, ""]


def _overview(reports: Sequence[DomainReport], lang: Lang) -> list[str]:
    rows = []
    for report in reports:
        grade = report.score.grade if report.score is not None else Grade.UNKNOWN
        value = doc.points(report.score.score if report.score is not None else None)
        first = report.priorities[0].finding.title.get(lang) if report.priorities else "—"
        rows.append([_inline(report.domain), _grade(grade), value, _inline(first)])
    head = (_inline(t.get(lang)) for t in (doc.DOMAIN, doc.GRADE, SCORE, doc.BEST_NEXT_STEP))
    return _table(head, rows)


def _domain(report: DomainReport, lang: Lang) -> list[str]:
    parts = doc.sections(report)
    lines = [f"## {_inline(report.domain)}", ""]
    lines += _rating(report, lang)
    lines += [f"### {_inline(doc.TO_FIX.get(lang))}", ""]
    for rank, entry in enumerate(parts.to_fix, 1):
        lines += _finding(entry.finding, lang, rank=rank, gain=entry.gain)
    if not parts.to_fix:
        lines += [_inline(doc.NOTHING_TO_FIX.get(lang)), ""]
    if parts.unknown:
        lines += [f"### {_inline(doc.NOT_CHECKED.get(lang))}", ""]
        for finding in parts.unknown:
            lines += _finding(finding, lang)
    if parts.passing:
        lines += _passing(parts.passing, parts.count(Grade.A), parts.count(Grade.NA), lang)
    return lines


def _rating(report: DomainReport, lang: Lang) -> list[str]:
    rating = report.score
    if rating is None:
        return [_inline(doc.NOT_SCORED.get(lang)), ""]
    line = f"{_grade(rating.grade)} · {_inline(SCORE.get(lang))} **{doc.points(rating.score)}**/100"
    cap = doc.overall_cap(report, lang)
    if cap:
        line += f" — {_inline(cap)}"
    rows = [
        [
            _inline(CATEGORY_NAMES[c.category].get(lang)),
            _grade(c.grade),
            doc.points(c.score),
            _inline(doc.category_note(c, lang)),
        ]
        for c in rating.categories
    ]
    head = (_inline(t.get(lang)) for t in (doc.CATEGORY, doc.GRADE, SCORE, doc.NOTE))
    return [line, "", *_table(head, rows)]


def _finding(
    finding: Finding, lang: Lang, *, rank: int | None = None, gain: float | None = None
) -> list[str]:
    number = f"{rank}. " if rank is not None else ""
    severity = doc.SEVERITY_NAMES[finding.severity].get(lang)
    severity = f"**{_inline(severity)}**" if doc.alarming(finding) else _inline(severity)
    lines = [
        f"#### {number}{_grade(finding.grade)} · {_inline(finding.title.get(lang))}",
        "",
        f"{_code(finding.check_id)} · {severity}",
        "",
        _inline(finding.summary.get(lang)),
        "",
    ]
    if finding.evidence:
        lines += [f"**{_inline(LABELS['evidence'].get(lang))}**", ""]
        for item in finding.evidence:
            value = doc.visible(item.value).rstrip("\n")
            if "\n" in value:
                lines += [f"- {_inline(item.source)} →", "", *_fenced(value, "  "), ""]
            else:
                lines.append(f"- {_inline(item.source)} → {_code(value)}")
        if lines[-1]:
            lines.append("")
    if finding.fix is not None:
        lines += [f"**{_inline(LABELS['fix'].get(lang))}:** {_inline(finding.fix.action.get(lang))}", ""]
        if finding.fix.snippet:
            lines += [*_fenced(finding.fix.snippet), ""]
    if finding.after_fix is not None:
        after = f"**{_inline(LABELS['after'].get(lang))}:** {_grade(finding.after_fix.grade)} — "
        after += _inline(finding.after_fix.effect.get(lang))
        if gain is not None:
            after += f" (**{GAIN.format(points=f'{gain:.1f}').get(lang)}**)"
        lines += [after, ""]
    if finding.references:
        links = " · ".join(_link(ref.label, ref.url) for ref in finding.references)
        lines += [f"**{_inline(doc.REFERENCES.get(lang))}:** {links}", ""]
    return lines


def _passing(findings: Iterable[Finding], passed: int, na: int, lang: Lang) -> list[str]:
    """Folded (GitHub renders ``<details>``; the blank lines let the table inside be Markdown)."""
    summary = html.escape(doc.PASSING.format(passed=passed, na=na).get(lang))
    rows = [
        [_grade(f.grade), f"{_inline(f.title.get(lang))} {_code(f.check_id)}", _inline(f.summary.get(lang))]
        for f in findings
    ]
    head = (_inline(t.get(lang)) for t in (doc.GRADE, doc.CHECK, doc.SUMMARY))
    return ["<details>", f"<summary>{summary}</summary>", "", *_table(head, rows), "</details>", ""]
