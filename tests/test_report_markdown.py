"""The Markdown report: structure and order, fences that hold any snippet, escaping of scanned values.

Rendered back with markdown-it-py (CommonMark with GFM tables and strikethrough, raw HTML allowed, as
GitHub would see it before its own sanitiser), so the assertions are about what a reader sees.
"""

from __future__ import annotations

import re

import pytest

from mimawari import __version__
from mimawari.model import Grade
from mimawari.report import document as doc
from mimawari.report import markdown as md_report
from mimawari.report.terminal import CATEGORY_NAMES, GAIN, LABELS
from mimawari.scan import DomainReport
from mimawari.score import RULES_VERSION
from tests.report_samples import HOSTILE, SCANNED_AT, demo_reports, finding, hostile_report, report

markdown_it = pytest.importorskip("markdown_it")  # rich's own dependency


def to_html(text: str) -> str:
    parser = markdown_it.MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    rendered: str = parser.render(text)
    return rendered


def domain_part(text: str, domain: str) -> str:
    start = text.index(f"\n## {md_report._inline(domain)}\n")
    following = text.find("\n## ", start + 1)
    return text[start : following if following > 0 else len(text)]


def heading_ids(part: str) -> list[str]:
    """The check ids of the findings in a domain's part, in order (the line under each heading)."""
    return re.findall(r"^#### .*\n\n`([^`]+)` · ", part, flags=re.MULTILINE)


@pytest.fixture
def demo() -> tuple[DomainReport, ...]:
    return demo_reports()


def test_document_structure(demo: tuple[DomainReport, ...]) -> None:
    text = md_report.render(demo, "en")
    lines = text.splitlines()
    assert lines[0] == "# mimawari report"
    assert f"mimawari {__version__}" in lines[2] and RULES_VERSION in lines[2]
    assert doc.utc(demo[0].snapshot.target.observed_at) in lines[2]
    assert [line[3:] for line in lines if line.startswith("## ")] == [
        r.domain.replace("_", "\\_") for r in demo
    ]
    assert "`docs/scoring.md`" in text
    html = to_html(text)
    assert html.count("<table>") == 1 + 2 * len(demo)  # overview, then categories and passing per domain


def test_score_line_and_category_table(demo: tuple[DomainReport, ...]) -> None:
    text = md_report.render(demo, "en")
    for domain_report in demo:
        assert domain_report.score is not None
        part = domain_part(text, domain_report.domain)
        score_line = part.split("\n")[3]
        assert score_line.startswith(f"{md_report.MARKS[domain_report.score.grade]} **")
        assert f"score **{domain_report.score.score:.1f}**/100" in score_line
        for category in domain_report.score.categories:
            row = next(
                line
                for line in part.splitlines()
                if line.startswith(f"| {CATEGORY_NAMES[category.category].en} |")
            )
            assert f"**{doc.letter(category.grade)}**" in row
    kuroneko = domain_part(text, "kuroneko.example")
    assert "— overall score capped at 39 by email.mta.open_relay" in kuroneko
    legacy = domain_part(text, "kuroneko-legacy.example")
    assert "insufficient data (100% of the weight unknown)" in legacy


def test_findings_in_priority_order_then_unknown(demo: tuple[DomainReport, ...]) -> None:
    text = md_report.render(demo, "en")
    for domain_report in demo:
        part = domain_part(text, domain_report.domain)
        ranked = [p.finding.check_id for p in domain_report.priorities]
        unknown = sorted(f.check_id for f in domain_report.findings if f.grade is Grade.UNKNOWN)
        assert heading_ids(part) == ranked + unknown
        for priority in domain_report.priorities:
            assert GAIN.format(points=f"{priority.gain:.1f}").en in part
        passing = sum(f.grade.passing for f in domain_report.findings)
        assert part.count("\n| 🟢 **A** |") + part.count("\n| ⚪ **N/A** |") == passing


def test_snippets_are_fenced_verbatim(demo: tuple[DomainReport, ...]) -> None:
    html = to_html(md_report.render(demo, "en"))
    blocks = re.findall(r"<pre><code>(.*?)</code></pre>", html, flags=re.DOTALL)
    snippets = [
        p.finding.fix.snippet
        for r in demo
        for p in r.priorities
        if p.finding.fix is not None and p.finding.fix.snippet
    ]
    unescaped = [
        block.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
        for block in blocks
    ]
    for snippet in snippets:
        assert snippet.rstrip("\n") + "\n" in unescaped


def test_hostile_values_keep_the_structure() -> None:
    text = md_report.render([hostile_report()], "en")
    html = to_html(text)
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "<em>" not in html and 'href="javascript' not in html
    # The TXT record is shown as it was, in a code span.
    assert "<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>" in html
    assert "<code>v=spf1 +all | ~all ``double`` `</code>" in html
    # A snippet with a ``` line gets a longer fence and comes out whole.
    snippet = "example.test. IN TXT &quot;v=spf1 -all&quot;\n```\n&lt;/code&gt;&lt;/pre&gt;&lt;script&gt;alert(2)&lt;/script&gt;\n"
    assert f"<pre><code>{snippet}</code></pre>" in html
    assert "\n````\n" in text
    # Multi-line evidence becomes a fenced block inside its list item.
    assert "<pre><code>version: STSv1\nmode: ```testing```\n</code></pre>" in html
    assert "220 mail\\x1b[31m ready" in html
    # A leading "1." in a summary is text, not a list.
    assert "<p>1. The record ends in +all &amp; friends" in html
    # The passing table keeps its three columns although the title holds a pipe.
    passing = html[html.index("<details>") :]
    for row in re.findall(r"<tr>(.*?)</tr>", passing, flags=re.DOTALL):
        assert len(re.findall(r"<t[hd]>", row)) == 3
    assert "<td>CAA | pipes <code>dns.caa.present</code></td>" in passing
    # Only http(s) references become links.
    assert re.findall(r'href="([^"]*)"', html) == ["https://example.org/a?b=1&amp;c=2"]
    assert HOSTILE not in text.replace("`<script>alert(1)</script>`", "")


def test_inline_code_holds_any_backticks() -> None:
    for value in ["plain", "a`b", "``x``", "`", " lead", "trail ", "a | b"]:
        span = md_report._code(value)
        html = to_html(f"x {span}")
        code = re.search(r"<code>(.*?)</code>", html, flags=re.DOTALL)
        assert code is not None and code.group(1).replace("&quot;", '"') == value


def test_japanese_document() -> None:
    kuroneko = demo_reports()[0]
    text = md_report.render(demo_reports(), "ja")
    part = domain_part(text, kuroneko.domain)
    first = kuroneko.priorities[0].finding
    assert text.startswith("# mimawari レポート\n")
    assert f"{first.title.ja}" in part and md_report._inline(first.summary.ja) in part
    assert f"**{LABELS['evidence'].ja}**" in part and f"**{LABELS['fix'].ja}:**" in part
    assert f"**{LABELS['after'].ja}:**" in part and doc.TO_FIX.ja in part
    assert GAIN.format(points=f"{kuroneko.priorities[0].gain:.1f}").ja in part


def test_pure_titled_and_edge_cases() -> None:
    reports = [hostile_report()]
    assert md_report.render(reports, "en") == md_report.render(reports, "en")
    assert md_report.render(reports, "en", title="Q3 *audit*").startswith("# Q3 \\*audit\\*\n")
    assert doc.utc(SCANNED_AT) in md_report.render(reports, "en")
    unscored = DomainReport("a.test", reports[0].snapshot, ())
    clean = report("b.test", [finding("dns.caa.present", Grade.A)], observed_at=0)
    text = md_report.render([unscored, clean], "en")
    assert "not scored" in domain_part(text, "a.test")
    assert "Nothing needs action." in domain_part(text, "b.test")
    assert "scanned —" in md_report.render([], "en")
