"""email.other.sender_requirements — will Gmail, Yahoo and Outlook.com accept the domain's mail?

The providers' rules (``data/sender_requirements.yaml``) judged on what the scan saw (``matrix``). The grade
follows the widest audience a failed *required* row shuts out: a requirement every sender must meet (Gmail,
Yahoo) failed: E, since even a few messages a day are junked or rejected; only a bulk-sender requirement
failed (over 5,000 a day): D, since large senders are rejected (Outlook.com's 550 5.7.515, Gmail's 5.7.26);
only a recommendation missed: B; nothing failed: A. Rows no lookup could settle make it unknown when
nothing failed. Rows that need a sample message or spam-rate data are listed in the summary and do not
count: they are not guessed. ``mimawari requirements DOMAIN`` shows the whole matrix.
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.other.matrix import Matrix, Row, State
from mimawari.checks.email.other.matrix_judge import judge
from mimawari.deliverability.requirements import Level, Tier
from mimawari.model import AfterFix, Category, Evidence, Fix, Grade, Reference, Severity, Text, Verdict
from mimawari.observations.sender_posture import SENDER_POSTURE, SenderPosture

TITLE = Text(
    "Gmail, Yahoo and Outlook.com sender requirements",
    "Gmail・Yahoo・Outlook.com の送信者要件",
)
REFERENCES = (
    Reference("Gmail email sender guidelines", "https://support.google.com/a/answer/81126"),
    Reference("Yahoo sender best practices", "https://senders.yahooinc.com/best-practices/"),
    Reference(
        "Outlook.com requirements for high-volume senders",
        "https://techcommunity.microsoft.com/blog/microsoftdefenderforoffice365blog/"
        "strengthening-email-ecosystem-outlook%E2%80%99s-new-requirements-for-high%E2%80%90volume-senders/4399730",
    ),
)

SUMMARIES = {
    Grade.A: Text(
        "Every requirement that could be checked is met ({checked}).{open}",
        "確認できた要件はすべて満たしています（{checked}）。{open_ja}",
    ),
    Grade.B: Text(
        "Every requirement is met, but recommendations are missed: {failed}.{open}",
        "要件は満たしていますが、推奨事項を満たしていません: {failed}。{open_ja}",
    ),
    Grade.D: Text(
        "Requirements for senders of over 5,000 messages a day are not met: {failed}. Large senders' mail "
        "to these providers is rejected or sent to spam.{open}",
        "1 日 5,000 通を超える送信者の要件を満たしていません: {failed}。大量送信者のメールは拒否されるか"
        "迷惑メールになります。{open_ja}",
    ),
    Grade.E: Text(
        "Requirements for every sender are not met: {failed}. Even a few messages a day may be rejected or "
        "sent to spam.{open}",
        "全送信者向けの要件を満たしていません: {failed}。1 日数通でも拒否または迷惑メール扱いになり得ます。"
        "{open_ja}",
    ),
    Grade.UNKNOWN: Text(
        "Nothing failed, but lookups failed for: {unknown}; run the scan again.{open}",
        "不適合はありませんが、次の照会に失敗しました: {unknown}。再度スキャンしてください。{open_ja}",
    ),
}
WHY = {
    State.NEEDS_MESSAGE: Text(
        " {count} of {total} requirements need a sample message (mimawari requirements DOMAIN --message FILE).",
        "要件 {total} 件中 {count} 件はサンプルメッセージが必要です（mimawari requirements DOMAIN --message FILE）。",
    ),
    State.NEEDS_SPAM_DATA: Text(
        " {count} of {total} requirements need spam-rate data (mimawari deliverability import).",
        "要件 {total} 件中 {count} 件は迷惑メール率データが必要です（mimawari deliverability import）。",
    ),
}
ALSO = Text(
    " Also not met by senders of over 5,000 a day: {rows}.",
    "1 日 5,000 通超の送信者はさらに次も満たしていません: {rows_ja}。",
)
FIX = Text(
    "Meet the failed requirements, first the one that shuts out the most mail: {first}.",
    "満たしていない要件に対応してください。最も多くのメールを止めているもの: {first}。",
)
EFFECT = Text(
    "The providers accept the mail on the grounds they check from outside; what remains is reputation.",
    "各社が外部から確認する項目でメールが受け入れられ、残るのは送信者の評判です。",
)


def _titles(rows: list[Row], lang: str) -> str:
    if lang == "ja":
        return "、".join(f"「{row.requirement.title.ja}」" for row in rows)
    return ", ".join(f"“{row.requirement.title.en}”" for row in rows)


def _open(matrix: Matrix) -> Text:
    """What is left open, counted: ``mimawari requirements`` lists the rows."""
    texts = [
        why.format(count=count, total=len(matrix.rows))
        for state, why in WHY.items()
        if (count := sum(1 for row in matrix.rows if row.result.state is state))
    ]
    return Text("".join(t.en for t in texts), "".join(t.ja for t in texts))


def _failed(matrix: Matrix, level: Level, tier: Tier | None = None) -> list[Row]:
    return [
        row
        for row, columns in matrix.failing(level)
        if tier is None or any(column.tier is tier for column in columns)
    ]


def _grade(matrix: Matrix) -> tuple[Grade, list[Row]]:
    for grade, failed in (
        (Grade.E, _failed(matrix, Level.REQUIRED, Tier.ALL)),
        (Grade.D, _failed(matrix, Level.REQUIRED)),
        (Grade.B, _failed(matrix, Level.RECOMMENDED)),
    ):
        if failed:
            return grade, failed
    unknown = [row for row in matrix.rows if row.result.state is State.UNKNOWN]
    return (Grade.UNKNOWN, unknown) if unknown else (Grade.A, [])


def _evidence(matrix: Matrix) -> tuple[Evidence, ...]:
    cells = []
    for column in matrix.requirements.columns:
        state = matrix.column_state(column)
        cells.append(Evidence(column.label.en, state.value))
    rows = tuple(
        Evidence(row.requirement.title.en, f"{row.result.state.value}: {row.result.summary.en}")
        for row in matrix.rows
    )
    return (*cells, *rows)


def evaluate(posture: SenderPosture) -> Verdict:
    matrix = judge(posture)
    grade, rows = _grade(matrix)
    opened = _open(matrix)
    also = [row for row in _failed(matrix, Level.REQUIRED) if row not in rows] if grade is Grade.E else []
    if also:
        more = ALSO.format(rows=_titles(also, "en"), rows_ja=_titles(also, "ja"))
        opened = Text(more.en + opened.en, more.ja + opened.ja)
    checked = sum(1 for row in matrix.rows if row.result.state.decided)
    values = {
        "failed": _titles(rows, "en"),
        "unknown": _titles(rows, "en"),
        "checked": f"{checked} of {len(matrix.rows)}",
        "open": opened.en,
        "open_ja": opened.ja,
    }
    template = SUMMARIES[grade]
    summary = Text(
        template.en.format(**values),
        template.ja.format(**{**values, "failed": _titles(rows, "ja"), "unknown": _titles(rows, "ja")}),
    )
    fix = after = None
    if grade in (Grade.B, Grade.D, Grade.E):
        first = rows[0]
        snippet = first.result.fix.snippet if first.result.fix else None
        action = first.result.fix.action if first.result.fix else None
        lead = FIX.format(first=first.requirement.title.en)
        lead_ja = FIX.format(first=first.requirement.title.ja)
        fix = Fix(
            Text(
                f"{lead.en} {action.en if action else ''}".strip(),
                f"{lead_ja.ja} {action.ja if action else ''}".strip(),
            ),
            snippet,
        )
        after = AfterFix(Grade.A, EFFECT)
    return Verdict(grade, summary, _evidence(matrix), fix, after)


CHECK = Check(
    id="email.other.sender_requirements",
    category=Category.EMAIL_OTHER,
    severity=Severity.HIGH,
    title=TITLE,
    references=REFERENCES,
    observer=SENDER_POSTURE,
    evaluate=evaluate,
)
