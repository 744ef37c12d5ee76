"""email.other.message_arc — when the sample was forwarded, did the forwarder seal it with ARC?

ARC (RFC 8617) lets an intermediary — a mailing list, a forwarding service — record the authentication
results it saw and seal them, so a receiver can still accept the message after SPF (new sending IP) or
DKIM (a changed subject or footer) broke on the way. Gmail asks forwarders and lists to add ARC. A
message sent directly needs none, and the sender cannot add it for others.

So the check is informational: N/A when nothing says the message was forwarded (no ARC set, no
``List-Id``, ``Resent-*`` or ``X-Forwarded-*`` field); A when every ARC instance 1…N has its three fields
and the newest seal does not say ``cv=fail``; C when the message was forwarded without ARC, or with a
broken chain.
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.other.message_base import GMAIL, RFC8617, without_sample
from mimawari.model import AfterFix, Category, Evidence, Fix, Grade, Severity, Text, Verdict
from mimawari.observations.message import MESSAGE, MessageObservation

FORWARDING_FIELDS = ("list-id", "resent-from", "resent-sender", "x-forwarded-to", "x-forwarded-for")

TITLE = Text("ARC on the forwarded sample message", "転送されたサンプルメッセージの ARC")
DIRECT = Text(
    "Nothing says the message was forwarded, so ARC (which forwarders and mailing lists add) is not needed.",
    "メッセージが転送された形跡がないため、ARC（転送サービスやメーリングリストが付ける）は不要です。",
)
SEALED = Text(
    "The message was forwarded through {count} intermediary(ies) that sealed it with ARC (cv={cv}).",
    "メッセージは {count} 件の中継者を経由し、ARC で封印されています（cv={cv}）。",
)
BROKEN = Text(
    "The message carries ARC fields, but the chain is incomplete or failed ({detail}); receivers ignore it.",
    "メッセージに ARC フィールドがありますが、チェーンが不完全か失敗しています（{detail}）。受信側は無視します。",
)
UNSEALED = Text(
    "The message was forwarded ({fields}) without ARC: if the forwarder changed it or SPF broke, DMARC may "
    "fail at the receiver.",
    "メッセージは ARC なしで転送されています（{fields}）。転送者が内容を変更したり SPF が失敗したりすると、受信側で"
    "DMARC が不合格になることがあります。",
)
FIX = Text(
    "Ask the operator of the list or forwarding service to seal with ARC (Mailman 3, Google Groups and "
    "Microsoft 365 can); for your own forwarding, sign with ARC (OpenARC shown). Keep DKIM robust so it "
    "survives forwarding: relaxed canonicalisation, no l=.",
    "メーリングリストや転送サービスの運用者に ARC での封印を依頼してください（Mailman 3、Google グループ、"
    "Microsoft 365 は対応）。自前の転送では ARC で署名します（OpenARC の例）。転送に耐えるよう DKIM は relaxed "
    "正規化にし、l= は使いません。",
)
SNIPPET = """# /etc/openarc.conf on the forwarding server
Domain    {domain}
Selector  arc2026
KeyFile   /etc/openarc/keys/arc2026.private
Mode      sv"""
EFFECT = Text(
    "Receivers can trust the forwarder's record of the original authentication, and forwarded copies pass.",
    "受信側が転送者の記録した元の認証結果を信頼でき、転送されたコピーも受け入れられます。",
)


def evaluate(observation: MessageObservation) -> Verdict:
    if (verdict := without_sample(observation)) is not None:
        return verdict
    assert observation.message is not None
    message = observation.message
    arc = message.arc
    signs = tuple(name for name in FORWARDING_FIELDS if message.count(name))
    evidence = (
        Evidence(
            "ARC fields",
            f"ARC-Seal {arc.seals}, ARC-Message-Signature {arc.message_signatures}, "
            f"ARC-Authentication-Results {arc.authentication_results}; instances "
            f"{', '.join(map(str, arc.instances)) or 'none'}",
        ),
        Evidence("forwarding fields", ", ".join(signs) or "none"),
    )
    if not arc.present and not signs:
        return Verdict(Grade.NA, DIRECT, evidence)
    fix = Fix(FIX, SNIPPET.format(domain=observation.from_domain or observation.domain))
    after = AfterFix(Grade.A, EFFECT)
    if not arc.present:
        return Verdict(Grade.C, UNSEALED.format(fields=", ".join(signs)), evidence, fix, after)
    newest = arc.chain_validation[arc.instances.index(max(arc.instances))] if arc.instances else ""
    if not arc.complete or newest == "fail":
        detail = f"instances {', '.join(map(str, arc.instances)) or 'none'}, newest cv={newest or '?'}"
        return Verdict(Grade.C, BROKEN.format(detail=detail), evidence, fix, after)
    return Verdict(Grade.A, SEALED.format(count=len(arc.instances), cv=newest or "?"), evidence)


CHECK = Check(
    id="email.other.message_arc",
    category=Category.EMAIL_OTHER,
    severity=Severity.INFO,
    title=TITLE,
    references=(RFC8617, GMAIL),
    observer=MESSAGE,
    evaluate=evaluate,
)
