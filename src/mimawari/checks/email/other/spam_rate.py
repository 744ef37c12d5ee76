"""email.other.spam_rate — how often the domain's recipients mark its mail as spam.

The providers judge senders by the user-reported spam rate above all else: Gmail and Yahoo ask bulk
senders to stay under 0.1 % and never to reach 0.3 % (February 2024); Outlook.com names no figure. At
0.3 % mail goes to spam or is rejected, and Gmail gives no help with delivery problems until the rate
has stayed under 0.3 % for seven days in a row.

Graded by ``deliverability.grading``: the worst daily figure (any source) of the 7 days ending on the
latest day with data — A under 0.1 %, C from 0.1 % to under 0.3 %, E at 0.3 % or more; SNDS's ``< 0.1%``
is under 0.1 %. N/A without figures (``mimawari deliverability import``) or when the latest is more than
three days older than the scan.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from mimawari.check import Check
from mimawari.deliverability.grading import (
    CRITICAL_RATE,
    WARNING_RATE,
    WINDOW_DAYS,
    SpamRateAssessment,
    assess,
    percent,
)
from mimawari.model import (
    AfterFix,
    Category,
    Evidence,
    Fix,
    Grade,
    Reference,
    Severity,
    SpamRateDay,
    SpamRateSummary,
    Text,
    Verdict,
)
from mimawari.observations.spam_rate import SPAM_RATE, SpamRateObservation

REFERENCES = (
    Reference("Gmail email sender guidelines", "https://support.google.com/a/answer/81126"),
    Reference("Yahoo sender best practices", "https://senders.yahooinc.com/best-practices/"),
    Reference("RFC 8058 (one-click unsubscribe)", "https://www.rfc-editor.org/rfc/rfc8058"),
)
TITLE = Text("Spam-complaint rate", "迷惑メール報告率")
IMPORT = "mimawari deliverability import postmaster|snds|arf --domain {domain}"

NO_DATA = Text(
    "No spam-complaint figures for this domain: the spam-rate requirement needs data. Import them with "
    f"{IMPORT} (Google Postmaster Tools, Microsoft SNDS, or complaint feedback with the sent volume).",
    "このドメインの迷惑メール報告率のデータがないため評価できません。"
    f"{IMPORT} で取り込んでください（Google Postmaster Tools、Microsoft SNDS、または送信数を添えた苦情フィードバック）。",
)
STALE = Text(
    "The latest spam-complaint figure is from {latest_day}, {age} days before the scan: too old to grade. "
    f"Import current figures with {IMPORT}.",
    "最新の迷惑メール報告率は {latest_day} のもので、スキャンの {age} 日前のため評価できません。"
    f"{IMPORT} で最新の数値を取り込んでください。",
)
SUMMARIES = {
    Grade.A: Text(
        "The spam-complaint rate stayed under 0.1 % in the {window} days up to {latest_day} "
        "(worst {worst} on {day}, {source}).",
        "{latest_day} までの {window} 日間、迷惑メール報告率は 0.1 % 未満でした（最悪値 {worst}、{day}、{source}）。",
    ),
    Grade.C: Text(
        "The spam-complaint rate reached {worst} on {day} ({source}): over the 0.1 % Gmail and Yahoo ask "
        "senders to stay under. At 0.3 % their filters send the mail to spam or reject it.",
        "迷惑メール報告率が {day} に {worst} に達しました（{source}）。Gmail と Yahoo が求める 0.1 % 未満を"
        "超えています。0.3 % に達するとメールは迷惑メール扱いまたは拒否されます。",
    ),
    Grade.E: Text(
        "The spam-complaint rate reached {worst} on {day} ({source}): at or over the 0.3 % Gmail and Yahoo "
        "enforce. Mail goes to spam or is rejected, and Gmail gives no help with delivery "
        "problems until the rate stays under 0.3 % for seven days in a row.",
        "迷惑メール報告率が {day} に {worst} に達しました（{source}）。Gmail と Yahoo が適用する "
        "0.3 % 以上です。メールは迷惑メール扱いまたは拒否され、7 日連続で 0.3 % 未満になるまで Gmail の"
        "配信問題の支援も受けられません。",
    ),
}
FIX = Text(
    "Find which mail draws the complaints (the day, the source, the campaign sent then) and stop it: "
    "(1) authenticate every message with SPF and a DKIM signature aligned with the From domain under a "
    "DMARC policy, so complaints are counted for you and feedback loops (Yahoo CFL, Microsoft JMRP) reach "
    "you; (2) put one-click unsubscribe (RFC 8058) in every marketing message, signed by DKIM, and a "
    "visible unsubscribe link, and honour requests within two days; (3) send only to people who asked for "
    "the mail (confirmed opt-in; never bought or harvested lists), and remove at once every address that "
    "complained and those that have not opened anything for months; (4) send less often and only what "
    "subscribers signed up for, and send transactional and marketing mail from separate subdomains so one "
    "does not sink the other. The headers:",
    "苦情の原因となっているメール（日付、集計元、その日に送った配信）を特定して止めてください: "
    "(1) すべてのメールを SPF と From ドメインに一致する DKIM 署名で認証し DMARC ポリシーを公開して、"
    "苦情が正しく自ドメインに集計され、フィードバックループ（Yahoo CFL、Microsoft JMRP）が届くようにする。"
    "(2) すべての販促メールに DKIM で署名したワンクリック登録解除（RFC 8058）と見える登録解除リンクを入れ、"
    "2 日以内に反映する。(3) 配信を希望した人（確認済みオプトイン。購入・収集したリストは使わない）にだけ送り、"
    "苦情を出したアドレスと何か月も開封のないアドレスを直ちに除外する。(4) 送信頻度を下げて登録時に約束した"
    "内容だけを送り、取引メールと販促メールを別のサブドメインから送って互いに影響しないようにする。ヘッダーの例:",
)
SNIPPET = """List-Unsubscribe: <https://{domain}/unsubscribe?u=<opaque id>>, <mailto:unsubscribe@{domain}?subject=unsubscribe>
List-Unsubscribe-Post: List-Unsubscribe=One-Click
# sign both with DKIM: h=from:to:subject:date:message-id:list-unsubscribe:list-unsubscribe-post
# the https URL must accept a POST with the body "List-Unsubscribe=One-Click" and unsubscribe at once"""
EFFECT = Text(
    "The complaint rate stays under 0.1 %: the mailbox providers deliver the mail to the inbox "
    "instead of spam, and problems can be raised with them again.",
    "迷惑メール報告率が 0.1 % 未満に保たれ、各メールボックス事業者がメールを迷惑メールではなく受信トレイに"
    "配信し、配信問題の相談も再びできるようになります。",
)


def _figure(figure: SpamRateDay) -> str:
    """``0.12 % (google-postmaster)``, with the counts when the source gives them."""
    counts = ""
    if figure.complaints is not None and figure.volume is not None:
        counts = f", {figure.complaints:,} complaints of {figure.volume:,}"
    elif figure.volume is not None:
        counts = f", {figure.volume:,} recipients"
    return f"{percent(figure)} ({figure.source}{counts})"


def _sources(summary: SpamRateSummary) -> str:
    rated: defaultdict[str, list[str]] = defaultdict(list)
    for figure in summary.series:
        if figure.rate is not None:
            rated[figure.source].append(figure.day)
    return (
        "; ".join(f"{source}: {len(days)} days, latest {max(days)}" for source, days in sorted(rated.items()))
        or "no day with a rate"
    )


def evidence_of(
    assessment: SpamRateAssessment, summary: SpamRateSummary, domain: str
) -> tuple[Evidence, ...]:
    found = []
    if assessment.latest:
        latest = ", ".join(_figure(f) for f in assessment.latest)
        found.append(Evidence(f"latest day {assessment.latest_day}", latest))
    if assessment.worst is not None:
        found.append(
            Evidence(
                f"worst day of the {WINDOW_DAYS} days up to {assessment.latest_day}",
                f"{assessment.worst.day}: {_figure(assessment.worst)}",
            )
        )
    found.append(Evidence(f"figures for {domain}, last {summary.days} days", _sources(summary)))
    found.append(
        Evidence(
            "thresholds", f"keep under {WARNING_RATE:.1%}, never {CRITICAL_RATE:.1%} or more (Gmail, Yahoo)"
        )
    )
    return tuple(found)


def evaluate(observation: SpamRateObservation) -> Verdict:
    summary = observation.summary
    domain = observation.domain
    if summary is None:
        return Verdict(Grade.NA, NO_DATA.format(domain=domain))
    assessment = assess(summary, date.fromisoformat(observation.day))
    evidence = evidence_of(assessment, summary, domain)
    worst = assessment.worst
    if worst is None:
        return Verdict(Grade.NA, NO_DATA.format(domain=domain), evidence)
    if assessment.grade is Grade.NA:
        text = STALE.format(latest_day=assessment.latest_day, age=assessment.stale_days, domain=domain)
        return Verdict(Grade.NA, text, evidence)
    text = SUMMARIES[assessment.grade].format(
        window=WINDOW_DAYS,
        latest_day=assessment.latest_day,
        worst=percent(worst),
        day=worst.day,
        source=worst.source,
    )
    fix = Fix(FIX, SNIPPET.replace("{domain}", domain))
    return Verdict(assessment.grade, text, evidence, fix, AfterFix(Grade.A, EFFECT))


CHECK = Check(
    id="email.other.spam_rate",
    category=Category.EMAIL_OTHER,
    severity=Severity.HIGH,
    title=TITLE,
    references=REFERENCES,
    observer=SPAM_RATE,
    evaluate=evaluate,
)
