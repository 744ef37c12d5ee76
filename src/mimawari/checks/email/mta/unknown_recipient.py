"""email.mta.unknown_recipient — is mail to a non-existent user refused at RCPT time?

The probe sends ``MAIL FROM:<relay-test@mimawari-probe.example>``, ``RCPT TO:<mimawari-<hex>@domain>``
(a random local part no one has, the same for every replay of the scan) and ``RSET`` — never DATA.
Refused with 5xx at RCPT: A, the sender learns at once. Accepted (2xx): the server takes mail it cannot
deliver and bounces it later to the (usually forged) sender — backscatter, which gets the domain
blocklisted and floods innocent people: C. A 4xx reply (greylisting, a temporarily unavailable
recipient lookup) hides the answer: B.
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.mta.base import Outcome, fold, judge, mta_not_graded
from mimawari.model import Category, Fix, Grade, Reference, Severity, Text, Verdict
from mimawari.observations.mta import MTA, MtaObservation, MtaServer

RFC5321_RCPT = Reference("RFC 5321 §4.1.1.3", "https://www.rfc-editor.org/rfc/rfc5321#section-4.1.1.3")
BACKSCATTER = Reference("Postfix BACKSCATTER_README", "https://www.postfix.org/BACKSCATTER_README.html")

TITLE = Text("Unknown recipients refused at RCPT", "存在しない宛先の RCPT 時の拒否")

REFUSED = Text(
    "Every server refuses unknown recipients at RCPT time: {servers}.",
    "すべてのサーバーが存在しない宛先を RCPT の時点で拒否します: {servers}。",
)
DEFERRED = Text(
    "These servers answered the unknown recipient with a temporary error (greylisting?), so whether they "
    "would accept it later is not known: {servers}.",
    "次のサーバーは存在しない宛先に一時エラーで応答したため（グレイリスティング？）、後で受け付けるかどうか"
    "分かりません: {servers}。",
)
ACCEPTED = Text(
    "These servers accept mail for a user that does not exist: {servers}. They bounce it later to the "
    "sender, who is usually forged (backscatter), which gets the servers blocklisted.",
    "次のサーバーは存在しないユーザー宛のメールを受け付けます: {servers}。後で送信者（多くは詐称）に"
    "エラーメールを返すため（バックスキャッター）、サーバーがブロックリストに登録されます。",
)
FIX = Text(
    "Reject unknown recipients during the SMTP session; a relay or gateway needs the list of valid "
    "recipients of the servers behind it (Postfix shown):",
    "存在しない宛先は SMTP セッション中に拒否してください。中継・ゲートウェイでは、背後のサーバーの有効な"
    "宛先一覧が必要です（Postfix の例）:",
)
SNIPPET = """# /etc/postfix/main.cf
smtpd_reject_unlisted_recipient = yes
local_recipient_maps = proxy:unix:passwd.byname $alias_maps
# a relay/gateway for other servers: list their valid recipients
relay_recipient_maps = hash:/etc/postfix/relay_recipients
# or ask the server behind: smtpd_recipient_restrictions = ..., reject_unverified_recipient

# Exim: in acl_check_rcpt keep   require verify = recipient
# Exchange Edge: Set-RecipientFilterConfig -RecipientValidationEnabled $true"""
EFFECT = Text(
    "Mail for unknown users is refused at once; the servers no longer send backscatter.",
    "存在しないユーザー宛のメールは即座に拒否され、バックスキャッターを送信しなくなります。",
)


def _judge(server: MtaServer) -> tuple[Grade, str]:
    session = server.session
    reply = session.unknown_rcpt
    command = f"RCPT TO:<{session.request.unknown_recipient}>"
    if reply is None:
        return (
            Grade.UNKNOWN,
            f"{command} not sent (MAIL FROM refused, or the session ended: {session.detail or '-'})",
        )
    seen = f"{command} → {reply.describe()}"
    if 200 <= reply.code < 400:
        return Grade.C, seen
    if 400 <= reply.code < 500:
        return Grade.B, seen
    return Grade.A, seen


def evaluate(observation: MtaObservation) -> Verdict:
    early = mta_not_graded(observation)
    if early is not None:
        return early
    summaries = {Grade.A: REFUSED, Grade.B: DEFERRED, Grade.C: ACCEPTED}
    return fold(judge(observation, _judge), Outcome(summaries, Fix(FIX, SNIPPET), EFFECT))


CHECK = Check(
    id="email.mta.unknown_recipient",
    category=Category.EMAIL_MTA,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(RFC5321_RCPT, BACKSCATTER),
    observer=MTA,
    evaluate=evaluate,
)
