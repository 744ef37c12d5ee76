"""email.other.message_dkim — does the sample carry a DKIM signature that verifies, by the From domain?

Gmail and Yahoo require every sender to sign with DKIM, and bulk senders to sign with the domain in From
(or to pass SPF aligned). Only a signature by a domain aligned with From (RFC 7489 §3.1.1) counts for
DMARC; a provider's own signature (``d=esp.example``) proves only that the provider sent it.

Grades: an aligned signature that verifies with a key of 2048 bits or more A; with a shorter key B
(RFC 8301 allows 1024 bits, but recommends 2048); only unaligned signatures verify D; signatures present
but none verifies E; no signature E. A key lookup that timed out is unknown, never a failure.
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.other.message_base import (
    GMAIL,
    RFC6376,
    RFC7489,
    RFC8301,
    from_evidence,
    without_sample,
)
from mimawari.model import AfterFix, Category, Fix, Grade, Severity, Text, Verdict
from mimawari.observations.message import MESSAGE, MessageObservation, SignatureCheck
from mimawari.observations.message_auth import AuthResult

RECOMMENDED_BITS = 2048

TITLE = Text("DKIM signature of the sample message", "サンプルメッセージの DKIM 署名")
PASS = Text(
    "The message carries a DKIM signature by {domain} (aligned with From) that verifies.",
    "メッセージには From と整合する {domain} の DKIM 署名があり、検証に成功しています。",
)
SHORT_KEY = Text(
    "The aligned DKIM signature by {domain} verifies, but its key has only {bits} bits; 2048 is recommended "
    "(RFC 8301 §3.2).",
    "From と整合する {domain} の DKIM 署名は検証に成功していますが、鍵は {bits} ビットしかありません。"
    "2048 ビットを推奨します（RFC 8301 §3.2）。",
)
UNALIGNED = Text(
    "Only signatures by {domains} verify; none is by a domain aligned with From ({from_domain}), so DKIM "
    "does not count for DMARC.",
    "検証に成功した署名は {domains} のものだけで、From（{from_domain}）と整合するドメインの署名がないため、"
    "DKIM は DMARC の判定に使われません。",
)
NONE_VERIFIES = Text(
    "The message has {count} DKIM signature(s), and none verifies: {detail}.",
    "メッセージには DKIM 署名が {count} 件ありますが、検証に成功したものはありません: {detail}。",
)
UNSIGNED = Text(
    "The message has no DKIM signature. Gmail and Yahoo require DKIM of every sender.",
    "メッセージに DKIM 署名がありません。Gmail と Yahoo はすべての送信者に DKIM を求めています。",
)
TEMPORARY = Text(
    "The aligned DKIM signature could not be checked: its key lookup failed ({detail}). Run the check again.",
    "From と整合する DKIM 署名を検証できませんでした。鍵の検索に失敗しました（{detail}）。再実行してください。",
)

SIGN = Text(
    "Sign every message with a key published under your own domain, so that d= is {domain} (or a "
    "subdomain of it). At a mail provider, turn on DKIM for a custom domain and publish the records it "
    "shows; on your own server (OpenDKIM shown):",
    "すべてのメッセージを自ドメインで公開した鍵で署名し、d= を {domain}（またはそのサブドメイン）にしてください。"
    "配信事業者を使う場合は独自ドメインの DKIM を有効にし、表示されたレコードを公開します。自前のサーバーの例"
    "（OpenDKIM）:",
)
SIGN_SNIPPET = """# a 2048-bit key for selector {selector}
opendkim-genkey -b 2048 -d {domain} -s {selector}
# publish the record from {selector}.txt:
{selector}._domainkey.{domain}. IN TXT "v=DKIM1; k=rsa; p=<public key from {selector}.txt>"
# /etc/opendkim.conf
Domain    {domain}
Selector  {selector}
KeyFile   /etc/opendkim/keys/{domain}/{selector}.private"""
REKEY = Text(
    "Publish a 2048-bit key under a new selector, sign with it, and retire the old key once no mail in "
    "transit uses it:",
    "新しいセレクタで 2048 ビットの鍵を公開して署名に使い、古い鍵は配送中のメールがなくなってから廃止して"
    "ください:",
)
REPAIR = Text(
    "Find why the signature fails: {detail}. A missing or revoked key needs publishing again; a body "
    "hash mismatch means something changes the message after signing (a footer, link rewriting, a "
    "re-encoding) — sign after that step.",
    "署名が失敗する原因を確認してください: {detail}。鍵がない・失効している場合は公開し直します。"
    "本文ハッシュの不一致は、署名後にメッセージを変更する処理（フッター追加、リンク書き換え、再エンコード）が"
    "あることを示すので、その処理の後で署名してください。",
)
EFFECT = Text(
    "Receivers verify a DKIM signature by your domain; DMARC passes by DKIM even when the message is "
    "forwarded and SPF fails.",
    "受信側が自ドメインの DKIM 署名を検証でき、転送されて SPF が失敗しても DMARC は DKIM で合格します。",
)


def _selector(signatures: tuple[SignatureCheck, ...]) -> str:
    return next((s.signature.selector for s in signatures if s.signature.selector), "s2026") or "s2026"


def evaluate(observation: MessageObservation) -> Verdict:
    if (verdict := without_sample(observation)) is not None:
        return verdict
    domain = observation.from_domain or observation.domain
    evidence = (from_evidence(observation), *(s.evidence() for s in observation.signatures))
    sign = Fix(SIGN.format(domain=domain), SIGN_SNIPPET.format(domain=domain, selector=_selector(())))
    after = AfterFix(Grade.A, EFFECT)
    if not observation.signatures:
        return Verdict(Grade.E, UNSIGNED, evidence, sign, after)
    aligned = observation.aligned_passing
    if aligned:
        best = max(aligned, key=lambda s: s.key.bits or 0)
        bits = best.key.bits or 0
        if best.key.key_type == "rsa" and bits < RECOMMENDED_BITS:
            snippet = SIGN_SNIPPET.format(
                domain=best.signature.domain, selector=f"{best.signature.selector}b"
            )
            text = SHORT_KEY.format(domain=best.signature.domain, bits=bits)
            return Verdict(Grade.B, text, evidence, Fix(REKEY, snippet), after, Severity.LOW)
        return Verdict(Grade.A, PASS.format(domain=best.signature.domain), evidence)
    temporary = [s for s in observation.signatures if s.aligned and s.result is AuthResult.TEMPERROR]
    if temporary:
        return Verdict(Grade.UNKNOWN, TEMPORARY.format(detail=temporary[0].detail), evidence)
    passing = observation.passing_signatures
    if passing:
        domains = ", ".join(dict.fromkeys(s.signature.domain for s in passing))
        text = UNALIGNED.format(domains=domains, from_domain=domain)
        return Verdict(Grade.D, text, evidence, sign, after)
    first = observation.signatures[0]
    text = NONE_VERIFIES.format(count=len(observation.signatures), detail=first.detail)
    fix = Fix(
        REPAIR.format(detail=first.detail),
        SIGN_SNIPPET.format(domain=domain, selector=_selector(observation.signatures)),
    )
    return Verdict(Grade.E, text, evidence, fix, after)


CHECK = Check(
    id="email.other.message_dkim",
    category=Category.EMAIL_OTHER,
    severity=Severity.HIGH,
    title=TITLE,
    references=(RFC6376, RFC8301, RFC7489, GMAIL),
    observer=MESSAGE,
    evaluate=evaluate,
)
