"""email.mta.latency — how long until a server is ready for a message: connect, greeting, EHLO.

The time a sender waits from opening the connection to the EHLO reply (``connect_ms + greeting_ms +
capabilities_ms``, as measured by the scan): under 2 s A, under 5 s B, under 15 s C, slower D. Senders
wait far longer before giving up (5 minutes for the greeting, RFC 5321 §4.5.3.2), so a slow server still
receives mail, but delivery slows down and busy senders may defer. A deliberate greeting delay is
legitimate anti-spam (Postfix ``postscreen_greet_wait``, Exim ``smtp_connect`` ACL delays): the text says
so when the greeting dominates, and the grade still tells what senders experience.
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.mta.base import Outcome, fold, judge, mta_not_graded
from mimawari.model import Category, Fix, Grade, Reference, Severity, Text, Verdict
from mimawari.observations.mta import MTA, MtaObservation, MtaServer

RFC5321_TIMEOUTS = Reference("RFC 5321 §4.5.3.2", "https://www.rfc-editor.org/rfc/rfc5321#section-4.5.3.2")
THRESHOLDS_MS = ((2_000, Grade.A), (5_000, Grade.B), (15_000, Grade.C))
"""Upper bounds (exclusive) of each grade; anything slower is D."""

TITLE = Text("Mail server response time", "メールサーバーの応答時間")

FAST = Text(
    "Every server is ready for mail within 2 seconds: {servers}.",
    "すべてのサーバーが 2 秒以内にメールを受け付けられる状態になります: {servers}。",
)
SLOW = Text(
    "These servers take {band} from connection to the EHLO reply: {servers}.{greeting_note}",
    "次のサーバーは接続から EHLO の応答まで {band_ja}かかります: {servers}。{greeting_note_ja}",
)
BANDS = {
    Grade.B: ("2 to 5 seconds", "2〜5 秒"),
    Grade.C: ("5 to 15 seconds", "5〜15 秒"),
    Grade.D: ("15 seconds or more", "15 秒以上"),
}
GREETING_NOTE = (
    " Most of it is the wait for the greeting: if that is a deliberate delay (Postfix postscreen_greet_wait, "
    "an Exim connect ACL delay) it is legitimate anti-spam, but keep it to a few seconds.",
    "大半は接続応答（グリーティング）までの待ち時間です。意図的な遅延（Postfix の postscreen_greet_wait、"
    "Exim の接続 ACL の遅延）であれば正当なスパム対策ですが、数秒程度にとどめてください。",
)
FIX = Text(
    "Find where the time goes: a deliberate greeting delay, slow DNS lookups at connect time (reverse DNS, "
    "DNS blocklists), or an overloaded server. For Postfix:",
    "時間がかかっている箇所を特定してください: 意図的な接続応答の遅延、接続時の遅い DNS 問い合わせ（逆引き、"
    "DNS ブロックリスト）、サーバーの過負荷。Postfix の場合:",
)
SNIPPET = """# /etc/postfix/main.cf — postscreen's pause before the greeting (default ${{stress?{{2}}:{{6}}}}s)
postscreen_greet_wait = ${{stress?{{2}}:{{4}}}}s
# slow resolver or DNSBL lookups delay the banner: time them
time host {address}
postconf smtpd_client_restrictions postscreen_dnsbl_sites"""
EFFECT = Text(
    "Senders get through the SMTP greeting quickly; delivery is not slowed down.",
    "送信側が SMTP の接続応答をすばやく通過でき、配送が遅れなくなります。",
)


def _grade(total_ms: float) -> Grade:
    return next((grade for bound, grade in THRESHOLDS_MS if total_ms < bound), Grade.D)


def _judge(server: MtaServer) -> tuple[Grade, str]:
    session = server.session
    steps = (session.connect_ms, session.greeting_ms, session.capabilities_ms)
    if any(step is None for step in steps):
        shown = ", ".join(f"{s:.0f} ms" if s is not None else "not reached" for s in steps)
        return Grade.UNKNOWN, f"connect, greeting, EHLO: {shown}"
    connect, greeting, ehlo = (float(s or 0) for s in steps)
    total = connect + greeting + ehlo
    seen = f"connect {connect:.0f} ms, greeting {greeting:.0f} ms, EHLO {ehlo:.0f} ms (total {total / 1000:.1f} s)"
    return _grade(total), seen


def _greeting_dominates(server: MtaServer) -> bool:
    session = server.session
    total = sum(s or 0 for s in (session.connect_ms, session.greeting_ms, session.capabilities_ms))
    return total > 0 and (session.greeting_ms or 0) >= total / 2


def evaluate(observation: MtaObservation) -> Verdict:
    early = mta_not_graded(observation)
    if early is not None:
        return early
    judged = judge(observation, _judge)
    slow = [j for j in judged if j.grade in BANDS]
    worst_slow = max(slow, key=lambda j: j.grade.rank or 0) if slow else None
    band, band_ja = BANDS.get(worst_slow.grade, ("", "")) if worst_slow else ("", "")
    note = worst_slow is not None and _greeting_dominates(worst_slow.server)
    snippet = SNIPPET.format(address=worst_slow.server.address if worst_slow else observation.domain)
    summaries = {Grade.A: FAST, **dict.fromkeys(BANDS, SLOW)}
    outcome = Outcome(summaries, Fix(FIX, snippet), EFFECT)
    return fold(
        judged,
        outcome,
        band=band,
        band_ja=band_ja,
        greeting_note=GREETING_NOTE[0] if note else "",
        greeting_note_ja=GREETING_NOTE[1] if note else "",
    )


CHECK = Check(
    id="email.mta.latency",
    category=Category.EMAIL_MTA,
    severity=Severity.LOW,
    title=TITLE,
    references=(RFC5321_TIMEOUTS,),
    observer=MTA,
    evaluate=evaluate,
)
