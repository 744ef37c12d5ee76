"""The HTML report: one self-contained page (inline CSS, no script, nothing fetched) to read on a laptop,
send to the people who own the DNS and the servers, or print.

Per domain: the overall score and letter, the category grades, then every finding that needs action, the
best next step first (``score.prioritise``), each with its evidence, the fix to copy and what the fix is
worth; passing and N/A checks compactly at the end. Every text from a scan (records, banners, certificate
names) is escaped: a hostile TXT record is shown, never interpreted.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from mimawari.model import Finding, Grade, Lang
from mimawari.report import document as doc
from mimawari.report.html_style import CSS
from mimawari.report.terminal import CATEGORY_NAMES, GAIN, LABELS, SCORE
from mimawari.scan import DomainReport

GRADE_CLASS = {grade: "g-unknown" if grade is Grade.UNKNOWN else "g-" + grade.name for grade in Grade}
"""CSS class per grade, from its name: "N/A" is no class name."""


def render(reports: Sequence[DomainReport], lang: Lang, *, title: str | None = None) -> str:
    """The whole page for ``reports``, in ``lang``. Pure: same reports, same page."""
    heading = title if title is not None else doc.title(reports, lang)
    body = [_page_header(reports, heading, lang)]
    if len(reports) > 1:
        body.append(_overview(reports, lang))
    body.append("<main>")
    body.extend(_domain(report, lang) for report in reports)
    body.append("</main>")
    body.append(_footer(lang))
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{_e(lang)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="color-scheme" content="light">\n'
        '<meta name="generator" content="mimawari">\n'
        f"<title>{_e(heading)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def _e(text: str) -> str:
    """Escaped for an HTML text or attribute, with control characters made visible (``\\x1b``)."""
    return html.escape(doc.visible(text), quote=True)


def _anchor(domain: str) -> str:
    return "d-" + domain


def _badge(grade: Grade, lang: Lang) -> str:
    name = doc.GRADE_NAMES[grade].get(lang)
    return f'<span class="badge {GRADE_CLASS[grade]}" title="{_e(name)}">{_e(doc.letter(grade))}</span>'


def _page_header(reports: Sequence[DomainReport], heading: str, lang: Lang) -> str:
    facts = " · ".join(_e(fact) for fact in doc.header_facts(reports, lang))
    return f'<header class="page">\n<h1>{_e(heading)}</h1>\n<p class="meta">{facts}</p>\n</header>'


def _overview(reports: Sequence[DomainReport], lang: Lang) -> str:
    """One row per domain: its letter and score and the best next step, linked to its section."""
    rows = []
    for report in reports:
        grade = report.score.grade if report.score is not None else Grade.UNKNOWN
        value = doc.points(report.score.score if report.score is not None else None)
        first = report.priorities[0].finding.title.get(lang) if report.priorities else "—"
        rows.append(
            f'<tr><td><a href="#{_e(_anchor(report.domain))}">{_e(report.domain)}</a></td>'
            f'<td>{_badge(grade, lang)}</td><td class="num">{_e(value)}</td><td>{_e(first)}</td></tr>'
        )
    head = "".join(
        f"<th>{_e(text.get(lang))}</th>" for text in (doc.DOMAIN, doc.GRADE, SCORE, doc.BEST_NEXT_STEP)
    )
    return (
        f'<nav class="overview" aria-label="{_e(doc.DOMAIN.get(lang))}">\n<table>\n'
        f"<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>\n</nav>"
    )


def _domain(report: DomainReport, lang: Lang) -> str:
    parts = doc.sections(report)
    out = [
        f'<section class="domain" id="{_e(_anchor(report.domain))}">',
        f"<h2>{_e(report.domain)}</h2>",
        _rating(report, lang),
        f"<h3>{_e(doc.TO_FIX.get(lang))}</h3>",
    ]
    if parts.to_fix:
        out.append('<ol class="findings">')
        out.extend(_finding(e.finding, lang, rank=n, gain=e.gain) for n, e in enumerate(parts.to_fix, 1))
        out.append("</ol>")
    else:
        out.append(f'<p class="nothing">{_e(doc.NOTHING_TO_FIX.get(lang))}</p>')
    if parts.unknown:
        out.append(f"<h3>{_e(doc.NOT_CHECKED.get(lang))}</h3>")
        out.append('<ol class="findings">')
        out.extend(_finding(finding, lang) for finding in parts.unknown)
        out.append("</ol>")
    if parts.passing:
        out.append(_passing(parts.passing, parts.count(Grade.A), parts.count(Grade.NA), lang))
    out.append("</section>")
    return "\n".join(out)


def _rating(report: DomainReport, lang: Lang) -> str:
    rating = report.score
    if rating is None:
        return f'<p class="muted">{_e(doc.NOT_SCORED.get(lang))}</p>'
    cap = doc.overall_cap(report, lang)
    overall = (
        f'<div class="overall">{_badge(rating.grade, lang)}<div>'
        f'<div class="points" aria-label="{_e(SCORE.get(lang))}">{_e(doc.points(rating.score))}'
        f"<small>{_e(doc.OUT_OF.get(lang))}</small></div>"
        + (f'<p class="cap">{_e(cap)}</p>' if cap else "")
        + "</div></div>"
    )
    items = []
    for category in rating.categories:
        note = doc.category_note(category, lang)
        capped = bool(category.capped_by) and category.score is not None
        items.append(
            f"<li>{_badge(category.grade, lang)}<div>"
            f'<div class="name">{_e(CATEGORY_NAMES[category.category].get(lang))}</div>'
            + ("" if category.score is None else f'<div class="value">{_e(doc.points(category.score))}</div>')
            + (f'<div class="note{" capped" if capped else ""}">{_e(note)}</div>' if note else "")
            + "</div></li>"
        )
    return f'<div class="rating">{overall}\n<ul class="categories">{"".join(items)}</ul>\n</div>'


def _finding(finding: Finding, lang: Lang, *, rank: int | None = None, gain: float | None = None) -> str:
    """One finding in full: grade, title, check id and severity; summary; evidence; fix; after the fix."""
    state = "alarm" if doc.alarming(finding) else ("unknown" if finding.grade is Grade.UNKNOWN else "warn")
    severity = finding.severity
    head = (
        (f'<span class="rank">{rank}</span>' if rank is not None else "")
        + _badge(finding.grade, lang)
        + f"<h4>{_e(finding.title.get(lang))}</h4>"
        + f'<span class="meta"><span class="sev sev-{severity.value}">'
        f"{_e(doc.SEVERITY_NAMES[severity].get(lang))}</span> · <code>{_e(finding.check_id)}</code></span>"
    )
    rows = []
    if finding.evidence:
        items = "".join(
            f'<li><span class="source">{_e(item.source)}</span> → <code class="value">{_e(item.value)}</code></li>'
            for item in finding.evidence
        )
        rows.append(_row(LABELS["evidence"].get(lang), f'<ul class="evidence">{items}</ul>'))
    if finding.fix is not None:
        fix = f"<p>{_e(finding.fix.action.get(lang))}</p>"
        if finding.fix.snippet:
            # Nothing but the snippet inside <pre> (no trailing newline, no markup): a copy gives exactly
            # the record or setting to publish.
            snippet = finding.fix.snippet.rstrip("\n")
            fix += f'<pre class="snippet"><code>{_e(snippet)}</code></pre>'
        rows.append(_row(LABELS["fix"].get(lang), fix))
    if finding.after_fix is not None:
        effect = _e(finding.after_fix.effect.get(lang))
        if gain is not None:
            effect += f' <strong class="gain">{_e(GAIN.format(points=f"{gain:.1f}").get(lang))}</strong>'
        after = f"{_badge(finding.after_fix.grade, lang)}<span>{effect}</span>"
        rows.append(_row(LABELS["after"].get(lang), f'<div class="after">{after}</div>'))
    if finding.references:
        rows.append(_row(doc.REFERENCES.get(lang), f'<ul class="refs">{_links(finding)}</ul>'))
    return (
        f'<li class="finding {state}">\n<div class="head">{head}</div>\n'
        f'<p class="summary">{_e(finding.summary.get(lang))}</p>\n'
        + (f"<dl>\n{''.join(rows)}</dl>\n" if rows else "")
        + "</li>"
    )


def _row(label: str, content: str) -> str:
    return f"<dt>{_e(label)}</dt><dd>{content}</dd>\n"


def _links(finding: Finding) -> str:
    return "".join(
        f'<li><a href="{_e(ref.url)}" rel="noopener noreferrer">{_e(ref.label)}</a></li>'
        if doc.web_link(ref.url)
        else f"<li>{_e(ref.label)} ({_e(ref.url)})</li>"
        for ref in finding.references
    )


def _passing(findings: Iterable[Finding], passed: int, na: int, lang: Lang) -> str:
    """Passing and N/A checks in one table, folded: what was checked, without the noise of evidence."""
    rows = "\n".join(
        f"<tr><td>{_badge(f.grade, lang)}</td><td>{_e(f.title.get(lang))}<br><code>{_e(f.check_id)}</code></td>"
        f'<td class="summary">{_e(f.summary.get(lang))}</td></tr>'
        for f in findings
    )
    head = "".join(f"<th>{_e(t.get(lang))}</th>" for t in (doc.GRADE, doc.CHECK, doc.SUMMARY))
    return (
        f'<details class="passing">\n<summary>{_e(doc.PASSING.format(passed=passed, na=na).get(lang))}</summary>\n'
        f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table>\n</details>"
    )


def _footer(lang: Lang) -> str:
    paragraphs = [f"<p>{_e(text.get(lang))}</p>" for text in doc.GRADE_GUIDE[:-1]]
    before, _, after = doc.GRADE_GUIDE[-1].get(lang).partition(doc.SCORING_DOC)
    paragraphs.append(f"<p>{_e(before)}<code>{_e(doc.SCORING_DOC)}</code>{_e(after)}</p>")
    return '<footer class="page">\n' + "\n".join(paragraphs) + "\n</footer>"
