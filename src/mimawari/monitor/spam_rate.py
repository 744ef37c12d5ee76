"""The ``spam_rate`` alert rule: the domain's spam-complaint rate reached 0.1 % (warning) or 0.3 % (critical).

It reads the figures the scan was given (``Target.spam_rates``, from ``mimawari deliverability import``)
the way ``email.other.spam_rate`` grades them (``deliverability.grading``): the worst daily figure of the
7 days ending on the latest day with data. Two states per domain, ``<domain>/warning`` and
``<domain>/critical``, each raised once when it begins to hold, announced again only after it cleared. A
domain that crosses both lines at once gets the critical alert only: its warning holds silently. No
figures, or figures more than three days older than the scan, are undetermined: nothing is raised or
cleared.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from mimawari.deliverability.grading import WINDOW_DAYS, assess, exceeds, percent
from mimawari.model import Grade, Severity, SpamRateDay, Text
from mimawari.monitor.alert import AlertKind, Condition
from mimawari.monitor.alert_texts import Message

if TYPE_CHECKING:
    from mimawari.monitor.rules import Situation, SpamRate

ACTION = Text(
    "Find the mail that drew the complaints (the day, the source, the campaign sent then) and stop it: "
    "send only to people who asked for it and drop every address that complained; put one-click "
    "unsubscribe (RFC 8058 List-Unsubscribe-Post, signed by DKIM) and a visible link in every marketing "
    "message and honour it within two days; send less often; keep marketing and transactional mail on "
    "separate subdomains; make sure all mail passes SPF, DKIM and DMARC aligned with the From domain. "
    "mimawari deliverability show {domain} lists the daily figures.",
    "苦情の原因となったメール（日付、集計元、その日に送った配信）を特定して止めてください: 配信を希望した人にだけ"
    "送り、苦情を出したアドレスはすべて除外する。すべての販促メールに DKIM で署名したワンクリック登録解除"
    "（RFC 8058 の List-Unsubscribe-Post）と見える登録解除リンクを入れ、2 日以内に反映する。送信頻度を下げる。"
    "販促メールと取引メールを別のサブドメインに分ける。すべてのメールが From ドメインに一致する SPF・DKIM・"
    "DMARC に合格するようにする。mimawari deliverability show {domain} で日ごとの数値を確認できます。",
)


def _line(threshold: float, critical: bool) -> Text:
    if critical:
        return Text(
            f"{threshold:g} %, the line Gmail and Yahoo enforce: mail goes to spam or is rejected",
            f"Gmail と Yahoo が適用する上限 {threshold:g} % に達しており、メールは迷惑メール扱いまたは拒否されます",
        )
    return Text(
        f"{threshold:g} %, the rate Gmail and Yahoo ask senders to stay under",
        f"Gmail と Yahoo が求める {threshold:g} % 未満を超えています",
    )


def message(organisation: str, domain: str, worst: SpamRateDay, threshold: float, critical: bool) -> Message:
    shown = percent(worst)
    line = _line(threshold, critical)
    title = Text(
        f"{organisation}: spam-complaint rate of {domain} reached {shown} (at or over {threshold:g} %)",
        f"{organisation}: {domain} の迷惑メール報告率が {shown} に達しました（{threshold:g} % 以上）",
    )
    changed = Text(
        f"{shown} on {worst.day} ({worst.source}), the worst day of the {WINDOW_DAYS} days up to the latest "
        f"figure: {line.en}.",
        f"最新の数値までの {WINDOW_DAYS} 日間で最悪の日は {worst.day} の {shown}（{worst.source}）です。{line.ja}。",
    )
    return Message(title, changed, ACTION.format(domain=domain))


def spam_rate(rule: SpamRate, s: Situation) -> Iterator[Condition]:
    levels = ((rule.critical, True), (rule.warning, False))
    for domain, report in s.current.reports.items():
        target = report.snapshot.target
        today = datetime.fromtimestamp(target.moment(), UTC).date()
        assessment = assess(target.spam_rates, today)
        keys = {True: f"{domain}/critical", False: f"{domain}/warning"}
        if assessment.grade is Grade.NA or not assessment.window:
            for key in keys.values():
                yield Condition(key, None)
            continue
        critical_holds = False
        for percent_line, critical in levels:
            ratio = float(Decimal(repr(percent_line)) / 100)  # 0.3 → exactly the float 0.003
            over = [f for f in assessment.window if exceeds(f, ratio)]
            held = bool(over)
            alert = None
            # A warning that begins together with the critical state would be a second alert for one rise.
            if held and not (critical_holds and not critical):
                worst = max(over, key=lambda f: (f.rate or 0.0, f.day))
                severity = Severity.CRITICAL if critical else Severity.HIGH
                text = message(s.organisation.name, domain, worst, percent_line, critical)
                alert = s.alert(rule, AlertKind.SPAM_RATE, keys[critical], severity, domain, text)
            critical_holds = critical_holds or (critical and held)
            yield Condition(keys[critical], held, alert)
