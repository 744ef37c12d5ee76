"""email.other.message_tls — did the sample reach the receiver over TLS?

Gmail requires TLS for sending and marks mail that arrived without it (the red padlock); Microsoft and
Yahoo expect it too. The receiving server records the hop in the topmost ``Received`` field it adds:
RFC 3848 ``with ESMTPS``/``ESMTPSA`` (the S is STARTTLS), or a comment with the TLS version and cipher.
The hop judged is the last one from an external address (``parse.message_received``), so internal hops
inside the receiving provider do not hide it.

Grades: TLS A; a plain ``with SMTP``/``ESMTP`` hop E; a hop that says nothing either way, or no
``Received`` field, unknown.
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.other.message_base import GMAIL, RFC3848, without_sample
from mimawari.model import AfterFix, Category, Evidence, Fix, Grade, Severity, Text, Verdict
from mimawari.observations.message import MESSAGE, MessageObservation

TITLE = Text("TLS on the last hop of the sample message", "サンプルメッセージの最終ホップの TLS")
GOOD = Text(
    "The message reached {by} from {client} over TLS ({detail}).",
    "メッセージは {client} から {by} へ TLS で届いています（{detail}）。",
)
PLAIN = Text(
    "The message reached {by} from {client} without TLS (with {protocol}): anyone on the path could read "
    "or change it, and Gmail shows it as not encrypted.",
    "メッセージは {client} から {by} へ TLS なしで届いています（with {protocol}）。経路上で読み取りや改ざんが"
    "可能で、Gmail では暗号化されていないと表示されます。",
)
NO_RECEIVED = Text(
    "The message has no Received field, so how it was delivered cannot be seen. Use a copy as the "
    'recipient\'s mailbox received it ("show original"), with all its headers.',
    "メッセージに Received フィールドがないため、配送経路がわかりません。受信者のメールボックスに届いたままの"
    "コピー（「メッセージのソースを表示」）をヘッダーごと使ってください。",
)
UNSAID = Text(
    "The last hop's Received field does not say whether TLS was used ({text}).",
    "最終ホップの Received フィールドには TLS を使ったかどうかが記録されていません（{text}）。",
)
FIX = Text(
    "Make the sending server use STARTTLS whenever the receiver offers it (Postfix shown), and keep its "
    "TLS library current; check the result in the Received field of a test message:",
    "送信サーバーが、受信側が対応していれば必ず STARTTLS を使うようにし（Postfix の例）、TLS ライブラリを最新に"
    "保ってください。テストメッセージの Received フィールドで結果を確認します:",
)
SNIPPET = """# /etc/postfix/main.cf on {client}
smtp_tls_security_level = may
smtp_tls_loglevel = 1
smtp_tls_CAfile = /etc/ssl/certs/ca-certificates.crt
# then: postfix reload"""
EFFECT = Text(
    "Messages travel encrypted to the receiver, and Gmail no longer flags them as unencrypted.",
    "メッセージは受信側まで暗号化されて届き、Gmail で暗号化なしと表示されなくなります。",
)


def evaluate(observation: MessageObservation) -> Verdict:
    if (verdict := without_sample(observation)) is not None:
        return verdict
    hop = observation.last_hop
    if hop is None:
        return Verdict(Grade.UNKNOWN, NO_RECEIVED)
    evidence = (Evidence(f"Received #{hop.index + 1}", hop.text),)
    client = hop.from_name or hop.from_ip or "the sender"
    by = hop.by_name or "the receiver"
    if hop.tls:
        return Verdict(Grade.A, GOOD.format(by=by, client=client, detail=hop.tls_detail), evidence)
    if hop.protocol_known:
        text = PLAIN.format(by=by, client=client, protocol=hop.protocol)
        return Verdict(
            Grade.E, text, evidence, Fix(FIX, SNIPPET.format(client=client)), AfterFix(Grade.A, EFFECT)
        )
    return Verdict(Grade.UNKNOWN, UNSAID.format(text=hop.text[:120]), evidence)


CHECK = Check(
    id="email.other.message_tls",
    category=Category.EMAIL_OTHER,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(RFC3848, GMAIL),
    observer=MESSAGE,
    evaluate=evaluate,
)
