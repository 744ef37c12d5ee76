"""The HTML report: structure, order, escaping of hostile scanned values, Japanese, self-containedness."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest

from mimawari import __version__
from mimawari.model import Grade, Lang, Severity
from mimawari.report import document as doc
from mimawari.report import html as html_report
from mimawari.report.document import INSUFFICIENT
from mimawari.report.terminal import CATEGORY_NAMES, GAIN, LABELS
from mimawari.scan import DomainReport
from mimawari.score import RULES_VERSION
from tests.report_samples import HOSTILE, SCANNED_AT, demo_reports, finding, hostile_report, report

VOID = {"meta", "br", "link", "img", "hr", "input", "source", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str | None] = field(default_factory=dict)
    children: list[Node | str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text for c in self.children)

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def walk(self) -> Iterator[Node]:
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.walk()

    def find_all(self, tag: str, cls: str | None = None) -> list[Node]:
        return [n for n in self.walk() if n.tag == tag and (cls is None or cls in n.classes)]

    def find(self, tag: str, cls: str | None = None) -> Node:
        found = self.find_all(tag, cls)
        assert found, f"no <{tag} class={cls}>"
        return found[0]


class Dom(HTMLParser):
    """A strict tree: every non-void element must be closed, in order (the writer omits no end tag)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document")
        self.stack = [self.root]
        self.doctype = ""

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs))
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        assert tag not in VOID
        open_tag = self.stack.pop().tag
        assert open_tag == tag, f"</{tag}> closes <{open_tag}>"

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(page: str) -> Node:
    dom = Dom()
    dom.feed(page)
    dom.close()
    assert dom.stack == [dom.root], f"unclosed: {[n.tag for n in dom.stack[1:]]}"
    assert dom.doctype.lower() == "doctype html"
    return dom.root


@pytest.fixture
def demo() -> tuple[DomainReport, ...]:
    return demo_reports()


@pytest.fixture
def demo_page(demo: tuple[DomainReport, ...]) -> str:
    return html_report.render(demo, "en")


def section(root: Node, domain: str) -> Node:
    return next(s for s in root.find_all("section", "domain") if s.attrs.get("id") == f"d-{domain}")


def listed_ids(container: Node, list_index: int = 0) -> list[str]:
    findings = container.find_all("ol", "findings")[list_index]
    return [item.find("span", "meta").find("code").text for item in findings.find_all("li", "finding")]


def test_page_is_balanced_html_with_header_and_footer(demo: tuple[DomainReport, ...], demo_page: str) -> None:
    root = parse(demo_page)
    assert root.find("html").attrs["lang"] == "en"
    header = root.find("header", "page").text
    assert f"mimawari {__version__}" in header
    assert RULES_VERSION in header
    assert doc.utc(demo[0].snapshot.target.observed_at) in header
    assert root.find("title").text == "mimawari report"
    assert "docs/scoring.md" in root.find("footer", "page").text
    assert [s.attrs["id"] for s in root.find_all("section", "domain")] == [f"d-{r.domain}" for r in demo]
    overview = root.find("nav", "overview")
    assert [a.attrs["href"] for a in overview.find_all("a")] == [f"#d-{r.domain}" for r in demo]


def test_each_domain_shows_its_score_and_category_grades(
    demo: tuple[DomainReport, ...], demo_page: str
) -> None:
    root = parse(demo_page)
    for domain_report in demo:
        assert domain_report.score is not None
        part = section(root, domain_report.domain)
        overall = part.find("div", "overall")
        assert overall.find("span", "badge").text == doc.letter(domain_report.score.grade)
        assert overall.find("div", "points").text == f"{domain_report.score.score:.1f}/100"
        cards = part.find("ul", "categories").find_all("li")
        assert [c.find("div", "name").text for c in cards] == [
            CATEGORY_NAMES[c.category].en for c in domain_report.score.categories
        ]
    kuroneko = section(root, "kuroneko.example").find("div", "rating").text
    assert "capped at 39 by email.mta.open_relay" in kuroneko
    assert "overall score capped at 39 by email.mta.open_relay" in kuroneko
    legacy = section(root, "kuroneko-legacy.example").find("ul", "categories").text
    assert f"{INSUFFICIENT.en} (100% of the weight unknown)" in legacy


def test_findings_follow_the_priorities_then_unknown_then_passing(
    demo: tuple[DomainReport, ...], demo_page: str
) -> None:
    root = parse(demo_page)
    for domain_report in demo:
        part = section(root, domain_report.domain)
        ranked = [p.finding.check_id for p in domain_report.priorities]
        unknown = sorted(f.check_id for f in domain_report.findings if f.grade is Grade.UNKNOWN)
        lists = part.find_all("ol", "findings")
        assert listed_ids(part) == ranked if ranked else part.find("p", "nothing")
        if unknown:
            assert listed_ids(part, len(lists) - 1) == unknown
        passing = part.find("details", "passing")
        assert len(passing.find_all("tr")) - 1 == sum(f.grade.passing for f in domain_report.findings)
    assert listed_ids(section(root, "kuroneko.example"))[0] == "email.mta.open_relay"


def test_every_ranked_finding_has_evidence_fix_snippet_and_gain(
    demo: tuple[DomainReport, ...], demo_page: str
) -> None:
    root = parse(demo_page)
    for domain_report in demo:
        items = section(root, domain_report.domain).find_all("li", "finding")
        for priority, item in zip(domain_report.priorities, items, strict=False):
            found = priority.finding
            assert item.find("h4").text == found.title.en
            evidence = [code.text for code in item.find_all("code", "value")]
            assert evidence == [e.value.replace("\r", "") for e in found.evidence]
            if found.fix is not None and found.fix.snippet:
                assert item.find("pre", "snippet").text == found.fix.snippet.rstrip("\n")
            assert GAIN.format(points=f"{priority.gain:.1f}").en in item.find("div", "after").text
            links = [a.attrs["href"] for a in item.find_all("a")]
            assert links == [r.url for r in found.references]
            assert ("alarm" in item.classes) == (
                found.grade in (Grade.D, Grade.E) or found.severity is Severity.CRITICAL
            )


def test_hostile_scanned_values_are_shown_not_interpreted() -> None:
    page = html_report.render([hostile_report()], "en")
    root = parse(page)
    assert "<script" not in page
    assert "onerror" not in {name for node in root.walk() for name in node.attrs}
    assert not root.find_all("img")
    assert not root.find_all("b")
    item = root.find("li", "finding")
    values = [code.text for code in item.find("ul", "evidence").find_all("code", "value")]
    assert values[0] == HOSTILE
    assert values[1] == "v=spf1 +all | ~all ``double`` `"
    assert values[3] == "220 mail\\x1b[31m ready"  # the escape sequence made visible, the CR dropped
    sources = [s.text for s in item.find_all("span", "source")]
    assert sources[1] == 'source "><img src=x onerror=alert(1)>'
    snippet = item.find("pre", "snippet")
    assert snippet.text == 'example.test. IN TXT "v=spf1 -all"\n```\n</code></pre><script>alert(2)</script>'
    assert [n.tag for n in snippet.walk()] == ["code"]
    # Only http(s) references become links; the ampersand in a URL stays one character.
    assert [a.attrs["href"] for a in item.find_all("a")] == ["https://example.org/a?b=1&c=2"]
    assert "javascript:alert(1)" in item.find("ul", "refs").text


def test_page_loads_nothing_from_anywhere() -> None:
    page = html_report.render([*demo_reports(), hostile_report()], "en")
    root = parse(page)
    assert not [n for n in root.walk() if n.tag in ("script", "link", "img", "iframe", "object", "embed")]
    assert not [n for n in root.walk() if "src" in n.attrs]
    assert {n.tag for n in root.walk() if "href" in n.attrs} == {"a"}
    style = root.find("style").text
    assert "@import" not in style and "url(" not in style
    assert "@media print" in style and "break-before: page" in style


def test_japanese_page() -> None:
    kuroneko = demo_reports()[0]
    assert kuroneko.score is not None
    root = parse(html_report.render(demo_reports(), "ja"))
    assert root.find("html").attrs["lang"] == "ja"
    assert root.find("title").text == "mimawari レポート"
    part = section(root, kuroneko.domain)
    first, priority = part.find("li", "finding"), kuroneko.priorities[0]
    assert first.find("h4").text == priority.finding.title.ja
    assert first.find("p", "summary").text == priority.finding.summary.ja
    assert [dt.text for dt in first.find_all("dt")] == [
        *(LABELS[k].ja for k in ("evidence", "fix", "after")),
        doc.REFERENCES.ja,
    ]
    assert first.find("strong", "gain").text == GAIN.format(points=f"{priority.gain:.1f}").ja
    names = [n.text for n in part.find_all("div", "name")]
    assert names == [CATEGORY_NAMES[c.category].ja for c in kuroneko.score.categories]
    assert part.find("h3").text == doc.TO_FIX.ja


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_render_is_pure_and_takes_a_title(lang: Lang) -> None:
    reports = [hostile_report()]
    assert html_report.render(reports, lang) == html_report.render(reports, lang)
    root = parse(html_report.render(reports, lang, title="Q3 <audit>"))
    assert root.find("title").text == root.find("h1").text == "Q3 <audit>"
    assert doc.utc(SCANNED_AT) == "2026-09-21 14:13 UTC"
    assert "2026-09-21 14:13 UTC" in root.find("header", "page").text


def test_edge_cases_render() -> None:
    unscored = DomainReport("a.test", hostile_report().snapshot, ())
    nothing_to_fix = report("b.test", [finding("dns.caa.present", Grade.A)], observed_at=0)
    root = parse(html_report.render([unscored, nothing_to_fix], "en"))
    assert "not scored" in section(root, "a.test").text
    assert section(root, "b.test").find("p", "nothing").text == "Nothing needs action."
    assert "scanned 2026-09-21 14:13 UTC" in root.find("header", "page").text
    empty = parse(html_report.render([], "en"))
    assert "scanned —" in empty.find("header", "page").text
    assert not empty.find_all("section")


def test_grades_and_severities_are_marked(demo_page: str) -> None:
    root = parse(demo_page)
    badges = {b.text: b.classes for b in root.find_all("span", "badge")}
    assert "g-E" in badges["E"] and "g-D" in badges["D"] and "g-unknown" in badges["?"]
    assert "g-NA" in badges["N/A"]
    critical = root.find_all("span", "sev-critical")
    assert critical and all(s.text == "critical" for s in critical)
    assert not re.search(r'class="[^"]*g-N/A', demo_page)
