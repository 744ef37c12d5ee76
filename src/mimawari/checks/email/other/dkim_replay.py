"""email.other.dkim_replay — how easily could the sample's DKIM signature be replayed with changes?

A signed message can be sent again by anyone who holds a copy, and it still verifies ("DKIM replay",
the spam waves of 2023–2024 that hurt the reputation of the signing domains). The signature's own tags
decide how much a replayer may change (see ``parse.dkim_signature``): ``l=`` lets anything be appended
to the body; fields signed no more often than they occur let a second Subject, To or List-Unsubscribe be
added on top (RFC 6376 §8.15); without ``x=`` the signature never expires.

The signatures judged are those by a domain aligned with From (they carry the domain's reputation); when
none is aligned, all of them. Grades (the worst signature): ``l=`` D; protected fields not oversigned C;
no ``x=`` B; none of these A. N/A without a signature.
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.other.message_base import RFC6376, RFC6376_REPLAY, without_sample
from mimawari.model import AfterFix, Category, Evidence, Fix, Grade, Severity, Text, Verdict
from mimawari.observations.message import MESSAGE, MessageObservation, SignatureCheck

TITLE = Text("DKIM replay risk of the sample message", "サンプルメッセージの DKIM リプレイのリスク")
NO_SIGNATURE = Text(
    "The message has no DKIM signature to replay (see the DKIM signature check).",
    "メッセージに DKIM 署名がないため、リプレイの対象になりません（DKIM 署名のチェックを参照）。",
)
GOOD = Text(
    "The DKIM signature resists replay: no l=, protected fields oversigned, and it expires (x=).",
    "DKIM 署名はリプレイに強い設定です: l= なし、保護すべきフィールドはオーバーサイン済み、有効期限（x=）あり。",
)
BODY_LENGTH = Text(
    "The signature by {domain} signs only the first {length} bytes of the body (l=): anything can be "
    "appended — other text, other links — and it still verifies.",
    "{domain} の署名は本文の先頭 {length} バイトしか対象にしていません（l=）。後ろに何を追加しても（別の文章や"
    "リンク）検証に成功します。",
)
NOT_OVERSIGNED = Text(
    "The signature by {domain} does not oversign {fields}: a second copy can be added on top and the "
    "signature still verifies, and many mail clients show the added one.",
    "{domain} の署名は {fields} をオーバーサインしていません。上に 2 つ目を追加しても検証に成功し、多くの"
    "メールソフトは追加された方を表示します。",
)
NO_EXPIRY = Text(
    "The signature by {domain} has no expiry (x=): a copy can be replayed for as long as the key is published.",
    "{domain} の署名には有効期限（x=）がありません。鍵が公開されている限り、コピーを再送（リプレイ）できます。",
)
FIX = Text(
    "Sign the whole body (no l=), list each protected field once more than it occurs (oversigning), and "
    "give signatures an expiry of a few days. OpenDKIM shown; rspamd: sign_headers with the (o) prefix "
    "and no use_length:",
    "本文全体を署名し（l= なし）、保護すべきフィールドを出現回数より 1 回多く列挙し（オーバーサイン）、署名に"
    "数日の有効期限を付けてください。OpenDKIM の例（rspamd では sign_headers に (o) を付け、l= を使わない）:",
)
SNIPPET = """# /etc/opendkim.conf (and remove any BodyLengthDB line: it makes OpenDKIM add l=)
OversignHeaders  From,To,Cc,Subject,Date,Reply-To,Sender,Content-Type,List-Unsubscribe,List-Unsubscribe-Post
SignatureTTL     604800"""
EFFECT = Text(
    "A captured message cannot be changed and replayed under your signature, and copies stop verifying "
    "after the expiry.",
    "取得されたメッセージを改変して自ドメインの署名付きで再送することができなくなり、コピーも有効期限後は"
    "検証に失敗します。",
)


def judged(observation: MessageObservation) -> tuple[SignatureCheck, ...]:
    """The signatures whose replay matters: those aligned with From, else all."""
    aligned = tuple(s for s in observation.signatures if s.aligned)
    return aligned or observation.signatures


def _grade(signature: SignatureCheck) -> tuple[Grade, Text]:
    replay, domain = signature.replay, signature.signature.domain or "?"
    if replay.body_length is not None:
        return Grade.D, BODY_LENGTH.format(domain=domain, length=replay.body_length)
    exposed = replay.not_oversigned + replay.unsigned
    if exposed:
        return Grade.C, NOT_OVERSIGNED.format(domain=domain, fields=", ".join(exposed))
    if replay.expires is None:
        return Grade.B, NO_EXPIRY.format(domain=domain)
    return Grade.A, GOOD


def _evidence(signature: SignatureCheck) -> Evidence:
    replay = signature.replay
    facts = [
        f"l={replay.body_length}" if replay.body_length is not None else "no l=",
        f"x={replay.expires}" if replay.expires is not None else "no x=",
        f"not oversigned: {', '.join(replay.not_oversigned)}" if replay.not_oversigned else "",
        f"not signed: {', '.join(replay.unsigned)}" if replay.unsigned else "",
    ]
    sig = signature.signature
    return Evidence(
        f"DKIM-Signature #{sig.index + 1} d={sig.domain or '?'}", "; ".join(f for f in facts if f)
    )


def evaluate(observation: MessageObservation) -> Verdict:
    if (verdict := without_sample(observation)) is not None:
        return verdict
    signatures = judged(observation)
    if not signatures:
        return Verdict(Grade.NA, NO_SIGNATURE)
    evidence = tuple(_evidence(s) for s in signatures)
    grade, text = max((_grade(s) for s in signatures), key=lambda pair: pair[0].rank or 0)
    if grade is Grade.A:
        return Verdict(grade, text, evidence)
    severity = Severity.LOW if grade is Grade.B else None
    return Verdict(grade, text, evidence, Fix(FIX, SNIPPET), AfterFix(Grade.A, EFFECT), severity)


CHECK = Check(
    id="email.other.dkim_replay",
    category=Category.EMAIL_OTHER,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(RFC6376_REPLAY, RFC6376),
    observer=MESSAGE,
    evaluate=evaluate,
)
