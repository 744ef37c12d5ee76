"""What the whole-document reports (HTML, Markdown) share: the order of a domain's findings, the facts of
the page header, and the texts the terminal report does not already have (``terminal`` holds the rest).

Pure: the scan time comes from each snapshot's ``observed_at``, never from the clock, so rendering the
same reports twice gives the same document.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from mimawari import __version__
from mimawari.model import Finding, Grade, Lang, Severity, Text
from mimawari.scan import DomainReport
from mimawari.score import RULES_VERSION, CategoryScore

INSUFFICIENT = Text("insufficient data", "データ不足")
DISPLAY_ORDER = (Grade.E, Grade.D, Grade.C, Grade.UNKNOWN, Grade.B, Grade.A, Grade.NA)
"""Worst first; "unknown" sits among the grades that still need attention, above B."""

TITLE = Text("mimawari report", "mimawari レポート")
DOMAIN_TITLE = Text("mimawari report: {domain}", "mimawari レポート：{domain}")
TOOL = Text("mimawari {version}", "mimawari {version}")
RULES = Text("rules {version}", "採点ルール {version}")
SCANNED = Text("scanned {when}", "スキャン日時 {when}")
DOMAIN = Text("domain", "ドメイン")
GRADE = Text("grade", "評価")
CATEGORY = Text("category", "カテゴリ")
NOTE = Text("note", "備考")
CHECK = Text("check", "検査")
SUMMARY = Text("summary", "概要")
OUT_OF = Text("/100", "/100")
TO_FIX = Text("What to fix, best next step first", "対処すべき項目（効果の高い順）")
NOT_CHECKED = Text(
    "Not checked: the data could not be obtained", "確認できなかった項目（データを取得できませんでした）"
)
NOTHING_TO_FIX = Text("Nothing needs action.", "対処が必要な項目はありません。")
PASSING = Text("{passed} checks pass, {na} not applicable", "{passed} 件の検査に合格、{na} 件は対象外")
REFERENCES = Text("references", "参考資料")
NOT_APPLICABLE = Text("not applicable", "対象外")
UNKNOWN_SHARE = Text("{share}% of the weight unknown", "重みの {share}% が不明")
OVERALL_CAP = Text("overall score capped at {cap} by {checks}", "{checks} により総合スコアの上限は {cap}")
NOT_SCORED = Text("not scored", "採点なし")
CAP = Text("capped at {cap} by {checks}", "{checks} により上限 {cap}")
CHECK_ID = Text("check id", "検査 ID")
BEST_NEXT_STEP = Text("best next step", "最初に対処する項目")
GRADE_NAMES = {
    Grade.A: Text("A: best", "A：最良"),
    Grade.B: Text("B: good", "B：良好"),
    Grade.C: Text("C: needs work", "C：要改善"),
    Grade.D: Text("D: poor", "D：不十分"),
    Grade.E: Text("E: worst", "E：最悪"),
    Grade.NA: Text("not applicable", "対象外"),
    Grade.UNKNOWN: Text("unknown: insufficient data", "不明：データ不足"),
}
SEVERITY_NAMES = {
    Severity.INFO: Text("info", "情報"),
    Severity.LOW: Text("low", "低"),
    Severity.MEDIUM: Text("medium", "中"),
    Severity.HIGH: Text("high", "高"),
    Severity.CRITICAL: Text("critical", "重大"),
}
GRADE_GUIDE = (
    Text(
        "Each check is graded A (best) to E (worst); N/A: does not apply to this domain; "
        "? (unknown): the data could not be obtained, which counts neither as a pass nor as a fail.",
        "各検査は A（最良）から E（最悪）で評価します。N/A はこのドメインに該当しない検査、"
        "?（不明）はデータを取得できなかった検査で、合格にも不合格にも数えません。",
    ),
    Text(
        "A category's score is the mean of its checks' points (A 100, B 85, C 65, D 40, E 0) weighted by "
        "severity; the overall score weighs the categories. A critical finding graded D or E caps its "
        "category and the overall score. Letters: 90 A, 75 B, 60 C, 40 D, below E.",
        "カテゴリのスコアは各検査の点（A 100、B 85、C 65、D 40、E 0）を重大度で重み付けした平均、"
        "総合スコアはカテゴリの加重平均です。D または E の重大な指摘はそのカテゴリと総合スコアに上限を"
        "設けます。評価：90 以上 A、75 以上 B、60 以上 C、40 以上 D、それ未満 E。",
    ),
    Text(
        "The full rubric, to recompute any score by hand: docs/scoring.md in the mimawari source.",
        "スコアを手で再計算できる採点基準の全文：mimawari のソースの docs/scoring.md。",
    ),
)
SCORING_DOC = "docs/scoring.md"


@dataclass(frozen=True)
class Entry:
    """A finding as a report lists it, with the overall points its fix adds (None when not ranked)."""

    finding: Finding
    gain: float | None = None


@dataclass(frozen=True)
class Sections:
    """A domain's findings in the order a report shows them (the terminal report's order)."""

    to_fix: tuple[Entry, ...]
    """Graded B–E, in ``report.priorities`` order: the best next step first."""
    unknown: tuple[Finding, ...]
    """Not graded for want of data: after the ranked ones."""
    passing: tuple[Finding, ...]
    """Graded A, then N/A."""

    def count(self, grade: Grade) -> int:
        return sum(f.grade is grade for f in self.passing)


def sections(report: DomainReport) -> Sections:
    ranked = {p.finding.check_id for p in report.priorities}  # one finding per check, as in ``terminal``
    rest = sorted(
        (f for f in report.findings if f.check_id not in ranked),
        key=lambda f: (DISPLAY_ORDER.index(f.grade), f.check_id),
    )
    return Sections(
        to_fix=tuple(Entry(p.finding, p.gain) for p in report.priorities),
        # A B–E finding that prioritise did not rank (a hand-made report) still needs action.
        unknown=tuple(f for f in rest if not f.grade.passing),
        passing=tuple(f for f in rest if f.grade.passing),
    )


def visible(text: str) -> str:
    """Control characters from scanned data (an escape sequence in a banner) written as ``\\x1b``, so
    that they neither vanish nor act; tabs and newlines stay."""
    return text.translate(_CONTROLS)


# A carriage return goes: scanned protocol lines end in CRLF, and the LF already breaks the line.
_CONTROLS = {c: "" if c == 0x0D else f"\\x{c:02x}" for c in (*range(0x20), 0x7F) if chr(c) not in "\t\n"}


def title(reports: Sequence[DomainReport], lang: Lang) -> str:
    """The page title: the domain's when there is one, else the report's."""
    if len(reports) == 1:
        return DOMAIN_TITLE.format(domain=reports[0].domain).get(lang)
    return TITLE.get(lang)


def letter(grade: Grade) -> str:
    return "?" if grade is Grade.UNKNOWN else grade.value


def alarming(finding: Finding) -> bool:
    """Shown in red: graded D or E, or critical and not passing."""
    return finding.grade in (Grade.D, Grade.E) or (
        finding.severity is Severity.CRITICAL and not finding.grade.passing
    )


def utc(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def scan_time(reports: Sequence[DomainReport]) -> str:
    """When the reports were scanned (one moment, or first – last); "—" for hand-made reports."""
    moments = sorted({r.snapshot.target.observed_at for r in reports if r.snapshot.target.observed_at})
    if not moments:
        return "—"
    if len(moments) == 1:
        return utc(moments[0])
    return f"{utc(moments[0])} – {utc(moments[-1])}"


def rules_version(reports: Sequence[DomainReport]) -> str:
    versions = sorted({r.score.rules_version for r in reports if r.score is not None})
    return ", ".join(versions) or RULES_VERSION


def header_facts(reports: Sequence[DomainReport], lang: Lang) -> tuple[str, ...]:
    return (
        TOOL.format(version=__version__).get(lang),
        RULES.format(version=rules_version(reports)).get(lang),
        SCANNED.format(when=scan_time(reports)).get(lang),
    )


def points(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def category_note(category: CategoryScore, lang: Lang) -> str:
    """Why a category has the score it has, when that needs saying: no data, nothing to grade, a cap."""
    if category.grade is Grade.UNKNOWN:
        share = UNKNOWN_SHARE.format(share=round(category.unknown_share * 100)).get(lang)
        return f"{INSUFFICIENT.get(lang)} ({share})"
    if category.grade is Grade.NA:
        return NOT_APPLICABLE.get(lang)
    if category.capped_by and category.cap is not None:
        return CAP.format(checks=", ".join(category.capped_by), cap=f"{category.cap:g}").get(lang)
    return ""


def overall_cap(report: DomainReport, lang: Lang) -> str:
    """The cap on the overall score, when a scored category carries one (``score``, rule 3)."""
    if report.score is None or report.score.score is None:
        return ""
    capping = [c for c in report.score.categories if c.score is not None and c.cap is not None]
    if not capping:
        return ""
    cap = min(c.cap for c in capping if c.cap is not None)
    checks = sorted({check for c in capping if c.cap == cap for check in c.capped_by})
    return OVERALL_CAP.format(cap=f"{cap:g}", checks=", ".join(checks)).get(lang)


def web_link(url: str) -> bool:
    """Only http(s) references become links: a ``javascript:`` or ``data:`` URL is shown as text."""
    return urlsplit(url).scheme in ("http", "https") and not any(c.isspace() for c in url)
