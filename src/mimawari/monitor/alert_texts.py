"""The words of each alert, in English and Japanese: what changed, and what to do about it.

An alert is read in a mail client or a chat channel, away from the report, so it carries the numbers
before and after, the date it is compared with, and the fixes themselves (the top of the scan's own
priority list), not only a link.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from mimawari.model import Category, Finding, Grade, Text
from mimawari.report.terminal import CATEGORY_NAMES
from mimawari.scan import DomainReport


@dataclass(frozen=True)
class Message:
    title: Text
    changed: Text
    action: Text


def _join(parts: Iterable[Text], separator: str = "\n") -> Text:
    parts = list(parts)
    return Text(separator.join(p.en for p in parts), separator.join(p.ja for p in parts))


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _points(report: DomainReport) -> str:
    if report.score is None or report.score.score is None:
        return "—"
    return f"{report.score.score:.1f} ({report.score.grade.value})"


def _fix(finding: Finding) -> Text:
    line = Text(f"{finding.title.en}: ", f"{finding.title.ja}: ")
    action = finding.fix.action if finding.fix is not None else Text("see the report", "レポートを参照")
    snippet = ""
    if finding.fix is not None and finding.fix.snippet:
        snippet = "".join(f"\n    {line}" if line else "\n" for line in finding.fix.snippet.splitlines())
    return Text(f"- {line.en}{action.en}{snippet}", f"- {line.ja}{action.ja}{snippet}")


def top_fixes(findings: Sequence[Finding], limit: int = 3) -> Text:
    """The first fixes to make, or a note that the scan lists none."""
    if not findings:
        return Text(
            "No finding of this scan needs action; see the report.",
            "対応が必要な指摘はありません。レポートを参照してください。",
        )
    return _join([Text("Fix first:", "まず対応すること:"), *(_fix(f) for f in findings[:limit])])


def _priorities(report: DomainReport) -> list[Finding]:
    return [p.finding for p in report.priorities]


def _new_problems(before: DomainReport, after: DomainReport) -> list[Finding]:
    """Findings of ``after`` graded worse than in ``before``, in ``after``'s priority order."""
    old = {f.check_id: f.grade for f in before.findings}

    def worse(finding: Finding) -> bool:
        previous = old.get(finding.check_id)
        rank, earlier = finding.grade.rank, previous.rank if previous is not None else None
        return rank is not None and rank > 0 and (earlier is None or rank > earlier)

    return [f for f in _priorities(after) if worse(f)]


def score_below(
    organisation: str, report: DomainReport, threshold: float, before: tuple[float, datetime] | None
) -> Message:
    title = Text(
        f"{organisation}: {report.domain} scored {_points(report)}, below {threshold:g}",
        f"{organisation}: {report.domain} のスコアが {_points(report)} で、基準 {threshold:g} を下回りました",
    )
    if before is None:
        changed = Text("First scan of this domain.", "このドメインの初回スキャンです。")
    else:
        changed = Text(
            f"Score before: {before[0]:.1f} on {_when(before[1])}.",
            f"前回のスコア: {before[0]:.1f}（{_when(before[1])}）。",
        )
    return Message(title, changed, top_fixes(_priorities(report)))


def score_drop(organisation: str, before: DomainReport, after: DomainReport, since: datetime) -> Message:
    assert before.score is not None and before.score.score is not None
    assert after.score is not None and after.score.score is not None
    drop = before.score.score - after.score.score
    title = Text(
        f"{organisation}: {after.domain} dropped {drop:.1f} points to {_points(after)}",
        f"{organisation}: {after.domain} のスコアが {drop:.1f} 点下がり {_points(after)} になりました",
    )
    problems = _new_problems(before, after)
    changed = _join(
        [
            Text(
                f"Score {_points(before)} on {_when(since)} → {_points(after)}.",
                f"スコア {_points(before)}（{_when(since)}）→ {_points(after)}。",
            ),
            *(
                Text(f"Worse: {f.title.en} ({f.grade.value})", f"悪化: {f.title.ja}（{f.grade.value}）")
                for f in problems
            ),
        ]
    )
    return Message(title, changed, top_fixes(problems or _priorities(after)))


def grade_drop(
    organisation: str, category: Category, before: DomainReport, after: DomainReport, since: datetime
) -> Message:
    name = CATEGORY_NAMES[category]
    old, new = _category_grade(before, category), _category_grade(after, category)
    title = Text(
        f"{organisation}: {after.domain} {name.en} grade fell from {old.value} to {new.value}",
        f"{organisation}: {after.domain} の{name.ja}の評価が {old.value} から {new.value} に下がりました",
    )
    problems = [f for f in _new_problems(before, after) if f.category is category]
    changed = _join(
        [
            Text(
                f"{name.en}: {old.value} on {_when(since)} → {new.value}.",
                f"{name.ja}: {old.value}（{_when(since)}）→ {new.value}。",
            ),
            *(
                Text(f"Worse: {f.title.en} ({f.grade.value})", f"悪化: {f.title.ja}（{f.grade.value}）")
                for f in problems
            ),
        ]
    )
    in_category = [f for f in _priorities(after) if f.category is category]
    return Message(title, changed, top_fixes(problems or in_category))


def _category_grade(report: DomainReport, category: Category) -> Grade:
    found = report.score.category(category) if report.score is not None else None
    return found.grade if found is not None else Grade.UNKNOWN


def new_finding(organisation: str, finding: Finding, before: Grade, since: datetime) -> Message:
    title = Text(
        f"{organisation}: {finding.target}: new finding: {finding.title.en} "
        f"({finding.grade.value}, {finding.severity.value})",
        f"{organisation}: {finding.target}: 新たな指摘: {finding.title.ja}（{finding.grade.value}、{finding.severity.value}）",
    )
    changed = Text(
        f"{finding.summary.en}\nGrade {before.value} on {_when(since)} → {finding.grade.value} ({finding.check_id}).",
        f"{finding.summary.ja}\n評価 {before.value}（{_when(since)}）→ {finding.grade.value}（{finding.check_id}）。",
    )
    return Message(title, changed, top_fixes([finding]))


def new_service(organisation: str, domain: str, service: str) -> Message:
    return Message(
        Text(
            f"{organisation}: new service reachable: {service}",
            f"{organisation}: 新たに到達可能なサービス: {service}",
        ),
        Text(
            f"{service} ({domain}) answered this scan; the earlier scan found it closed.",
            f"{service}（{domain}）が今回のスキャンで応答しました。前回は閉じていました。",
        ),
        Text(
            "Confirm that it is meant to be reachable from the internet. If not, close the port or allow only "
            "the addresses that need it; if it is, make sure it is patched and requires TLS.",
            "インターネットから到達可能であるべきものか確認してください。意図しない場合はポートを閉じるか、"
            "必要なアドレスのみに許可してください。意図したものなら、最新の修正を適用し TLS を必須にしてください。",
        ),
    )


def certificate_expiring(
    organisation: str, endpoint: str, names: Sequence[str], expires: datetime, days: float
) -> Message:
    left = (
        Text(f"expired {-days:.0f} days ago", f"{-days:.0f} 日前に期限切れ")
        if days < 0
        else Text(f"expires in {days:.0f} days", f"あと {days:.0f} 日で期限切れ")
    )
    title = Text(
        f"{organisation}: certificate of {endpoint} {left.en}",
        f"{organisation}: {endpoint} の証明書が{left.ja}",
    )
    shown = ", ".join(names[:5]) or "?"
    changed = Text(
        f"Certificate for {shown}, valid until {_when(expires)}.",
        f"{shown} の証明書、有効期限 {_when(expires)}。",
    )
    action = Text(
        "Renew the certificate and install it on the server (with its intermediate certificates), then reload "
        "the service. Automate renewal (ACME) so that it does not lapse again.",
        "証明書を更新してサーバーに（中間証明書とともに）設置し、サービスを再読み込みしてください。"
        "再び期限切れにならないよう更新を自動化（ACME）してください。",
    )
    return Message(title, changed, action)


def dmarc_weakened(
    organisation: str, domain: str, reasons: Sequence[Text], previous: str, since: datetime
) -> Message:
    title = Text(
        f"{organisation}: DMARC policy of {domain} was weakened",
        f"{organisation}: {domain} の DMARC ポリシーが弱められました",
    )
    changed = _join([Text(f"Compared with {_when(since)}:", f"{_when(since)} との比較:"), *reasons])
    if previous:
        action = Text(
            f"If the change was not intended, publish the earlier record again at _dmarc.{domain}:\n    {previous}",
            f"意図しない変更であれば、_dmarc.{domain} に以前のレコードを再公開してください:\n    {previous}",
        )
    else:
        action = Text(
            f"If the change was not intended, publish a DMARC record again at _dmarc.{domain}.",
            f"意図しない変更であれば、_dmarc.{domain} に DMARC レコードを再公開してください。",
        )
    return Message(title, changed, action)
