"""email.mta.reachable — does every MX address answer on port 25 with a 220 greeting?

Senders try the MX hosts in preference order and every address of each; an address that refuses the
connection (or greets with 554, RFC 5321 §3.1) only costs time while another one works: C. When none of
them works mail cannot be delivered at all: E; D when the others did not answer in time, so some may
work. An address that did not answer within the timeout gives no verdict (it may be slow, or filtering
the scanner); one the scan may not contact (a private address, out of scope) is left out.
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.mta.base import (
    RFC5321_GREETING,
    Judged,
    judge,
    mta_not_graded,
    servers,
    undecided,
    with_unseen,
)
from mimawari.model import AfterFix, Category, Fix, Grade, Severity, Status, Text, Verdict
from mimawari.observations.mta import MTA, MtaObservation, MtaServer

TITLE = Text("Mail servers reachable on port 25", "メールサーバーへのポート 25 での到達性")

REACHABLE = Text(
    "Every MX address answers on port 25 with a 220 greeting: {servers}.",
    "すべての MX アドレスがポート 25 で 220 の応答を返します: {servers}。",
)
SOME_UNREACHABLE = Text(
    "Some MX addresses do not accept SMTP sessions: {servers}. Senders fall back to the others, after a "
    "delay. (A 554 greeting may only mean the scanner's address is blocklisted.)",
    "一部の MX アドレスが SMTP セッションを受け付けません: {servers}。送信側は遅延の後、他のアドレスに"
    "切り替えます（554 の応答は、スキャナーのアドレスがブロックリストに載っているだけの可能性もあります）。",
)
NONE_ANSWERED = Text(
    "No MX address that answered accepts SMTP sessions ({servers}); the others did not answer in time. "
    "Mail may not be delivered at all.",
    "応答した MX アドレスはいずれも SMTP セッションを受け付けません（{servers}）。他のアドレスは時間内に"
    "応答しませんでした。メールがまったく配送されないおそれがあります。",
)
NONE_REACHABLE = Text(
    "No MX address accepts SMTP sessions ({servers}): mail to this domain cannot be delivered.",
    "SMTP セッションを受け付ける MX アドレスがありません（{servers}）。このドメイン宛のメールは配送できません。",
)
OUT_OF_SCOPE = Text(
    "No MX address could be contacted within the scan's scope ({servers}).",
    "スキャン範囲内で接続できる MX アドレスがありません（{servers}）。",
)
FIX = Text(
    "Make the mail server listen on port 25 of every address the MX hosts resolve to, and allow port 25 "
    "from the internet in the firewall; or remove the addresses that are not mail servers from DNS.",
    "MX ホストが解決されるすべてのアドレスのポート 25 でメールサーバーを待ち受けさせ、ファイアウォールで"
    "インターネットからのポート 25 を許可してください。メールサーバーでないアドレスは DNS から削除してください。",
)
SNIPPET = """# Postfix, /etc/postfix/main.cf: listen on every address
inet_interfaces = all
inet_protocols = all
# /etc/postfix/master.cf must keep the smtp service:  smtp inet n - y - - smtpd
# firewall (nftables): nft add rule inet filter input tcp dport 25 accept
# check from outside:  nc -v {host} 25"""
EFFECT = Text(
    "Every MX address accepts mail, so senders deliver without delays or bounces.",
    "すべての MX アドレスがメールを受け付け、送信側は遅延や不達なしに配送できます。",
)


def _judge(server: MtaServer) -> tuple[Grade, str]:
    session = server.session
    if session.status is Status.TIMEOUT:
        return Grade.UNKNOWN, session.describe()
    if session.status is not Status.PRESENT:
        not_tried = session.detail.startswith("out of scope")
        return (Grade.NA if not_tried else Grade.D), session.describe()
    greeting = session.greeting
    if greeting is None:
        return Grade.UNKNOWN, session.describe()
    if greeting.code == 220:
        return Grade.A, greeting.describe()
    return Grade.D, f"refused the session: {greeting.describe()}"


def evaluate(observation: MtaObservation) -> Verdict:
    early = mta_not_graded(observation)
    if early is not None:
        return early
    judged: list[Judged] = judge(observation, _judge, unanswered=True)
    evidence = tuple(j.evidence for j in judged)
    grades = {j.grade for j in judged}
    if grades <= {Grade.NA}:
        return Verdict(Grade.NA, OUT_OF_SCOPE.format(servers=servers(judged)), evidence)
    if Grade.D not in grades:
        if Grade.A in grades:
            summary = with_unseen(REACHABLE.format(servers=servers(judged, Grade.A)), judged)
            return Verdict(Grade.A, summary, evidence)
        return Verdict(Grade.UNKNOWN, undecided(judged), evidence)
    failing = servers(judged, Grade.D)
    if Grade.A in grades:
        grade, summary = Grade.C, SOME_UNREACHABLE.format(servers=failing)
    elif Grade.UNKNOWN in grades:
        grade, summary = Grade.D, NONE_ANSWERED.format(servers=failing)
    else:
        grade, summary = Grade.E, NONE_REACHABLE.format(servers=failing)
    summary = with_unseen(summary, judged)
    host = next(j.server.host for j in judged if j.grade is Grade.D)
    fix = Fix(FIX, SNIPPET.format(host=host))
    severity = Severity.CRITICAL if grade is Grade.E else None
    return Verdict(grade, summary, evidence, fix, AfterFix(Grade.A, EFFECT), severity)


CHECK = Check(
    id="email.mta.reachable",
    category=Category.EMAIL_MTA,
    severity=Severity.HIGH,
    title=TITLE,
    references=(RFC5321_GREETING,),
    observer=MTA,
    evaluate=evaluate,
)
