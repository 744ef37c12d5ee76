"""email.dkim.key_size — are the RSA keys long enough?

RFC 8301 §3.2: signers MUST use RSA keys of at least 1024 bits and SHOULD use at least 2048; verifiers
MUST validate keys of 1024 to 4096 bits and need not validate others. Graded by the weakest RSA key:
under 1024 bits E (verifiers reject it), 1024–2047 C (factoring 1024-bit RSA is within reach of a
well-funded attacker), over 4096 C (some verifiers cannot validate it), 2048–4096 A. Ed25519 keys have a
fixed size, so a domain with Ed25519 keys only is N/A. The fix rotates to a new 2048-bit key; its after-fix
grade is the grade with every weak key replaced by a 2048-bit one.
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.dns.dkim.keys import (
    RFC8301,
    example_key,
    nothing_to_judge,
    record_evidence,
    with_fixed_keys,
)
from mimawari.model import AfterFix, Category, Fix, Grade, Reference, Severity, Text, Verdict
from mimawari.observations.dkim import DKIM, DkimObservation, SelectorLookup, provider_of
from mimawari.parse.dkim import DkimKeyRecord

TITLE = Text("DKIM RSA key size", "DKIM RSA 鍵の長さ")
MINIMUM, RECOMMENDED, MAXIMUM = 1024, 2048, 4096

GOOD = Text(
    "Every RSA key is 2048 to 4096 bits: {keys}.", "すべての RSA 鍵が 2048〜4096 ビットです: {keys}。"
)
NO_RSA = Text(
    "No RSA key was found ({keys}): Ed25519 keys have a fixed size.",
    "RSA 鍵は見つかりませんでした（{keys}）。Ed25519 鍵の長さは固定です。",
)
TOO_SHORT = Text(
    "RSA key(s) shorter than 1024 bits: {keys}. RFC 8301 forbids them and verifiers reject their signatures.",
    "1024 ビット未満の RSA 鍵があります: {keys}。RFC 8301 で禁止されており、その署名は検証側で拒否されます。",
)
WEAK = Text(
    "RSA key(s) shorter than 2048 bits: {keys}. RFC 8301 asks for at least 2048 bits; 1024-bit RSA is "
    "within reach of a well-funded attacker, who could then sign mail as your domain.",
    "2048 ビット未満の RSA 鍵があります: {keys}。RFC 8301 は 2048 ビット以上を求めています。1024 ビットの "
    "RSA は資金力のある攻撃者なら解読でき、ドメインになりすました署名が可能になります。",
)
TOO_LONG = Text(
    "RSA key(s) longer than 4096 bits: {keys}. Verifiers need only handle up to 4096 bits (RFC 8301 §3.2), "
    "so some cannot verify these signatures.",
    "4096 ビットを超える RSA 鍵があります: {keys}。検証側に求められるのは 4096 ビットまで（RFC 8301 3.2 節）"
    "のため、これらの署名を検証できない受信側があります。",
)
FIX = Text(
    "Rotate to a new 2048-bit RSA key: generate the key pair, publish the public key under a new selector, "
    "switch the signer to it, and revoke the old selector about a week later, once mail signed with it "
    "has been delivered. For a selector CNAME'd to a provider, rotate the key in the provider's settings.",
    "新しい 2048 ビットの RSA 鍵に切り替えてください。鍵ペアを生成し、公開鍵を新しいセレクターで公開して"
    "署名側をそのセレクターに切り替え、旧鍵で署名したメールが届いた約 1 週間後に旧セレクターを失効させます。"
    "CNAME でプロバイダーを参照しているセレクターは、プロバイダーの設定で鍵を更新してください。",
)
EFFECT = Text(
    "Your signatures can no longer be forged by factoring the key, and every verifier can check them.",
    "鍵の素因数分解による署名の偽造ができなくなり、すべての検証側で署名を確認できます。",
)
SEVERITY = {Grade.C: Severity.MEDIUM, Grade.E: Severity.HIGH}


def _grade(bits: int) -> Grade:
    if bits < MINIMUM:
        return Grade.E
    if bits < RECOMMENDED or bits > MAXIMUM:
        return Grade.C
    return Grade.A


def _rsa_keys(observation: DkimObservation) -> list[tuple[SelectorLookup, DkimKeyRecord, int]]:
    return [
        (lookup, key, key.key.bits)
        for lookup, key in observation.keys
        if not key.revoked and key.key is not None and key.key.algorithm == "rsa"
    ]


def rotation_steps(lookup: SelectorLookup, domain: str) -> str:
    """The copyable steps that replace ``lookup``'s key with a 2048-bit one."""
    old = lookup.selector
    if lookup.delegated_to:
        provider = provider_of(lookup.delegated_to)
        if provider is not None and provider.name == "Microsoft 365":
            return f"# {old}: Exchange Online PowerShell\nRotate-DkimSigningConfig -Identity {domain} -KeySize 2048"
        who = provider.name if provider else "the provider"
        return (
            f"# {old}._domainkey.{domain} is a CNAME to {lookup.delegated_to}: ask {who} for a 2048-bit key"
        )
    new = f"{old}-2048"
    return "\n".join(
        (
            f"# {old}: 1. generate a 2048-bit key pair (the private key stays with the signer)",
            f"openssl genrsa -out {new}.pem 2048",
            f"openssl rsa -in {new}.pem -pubout -outform DER | openssl base64 -A",
            "# 2. publish the public key under a new selector, in strings of at most 255 characters",
            f'{new}._domainkey.{domain}. IN TXT "v=DKIM1; k=rsa; " "p=<base64 printed by step 1>"',
            f"# 3. sign with selector {new}; a week later revoke the old key",
            f'{old}._domainkey.{domain}. IN TXT "v=DKIM1; k=rsa; p="',
        )
    )


def evaluate(observation: DkimObservation) -> Verdict:
    nothing = nothing_to_judge(observation)
    if nothing is not None:
        return nothing
    rsa_keys = _rsa_keys(observation)
    if not rsa_keys:
        listing = ", ".join(f"{lookup.selector} {key.key_type}" for lookup, key in observation.keys)
        return Verdict(Grade.NA, NO_RSA.format(keys=listing))
    listing = ", ".join(f"{lookup.selector} {bits}-bit" for lookup, _, bits in rsa_keys)
    grade = max((_grade(bits) for _, _, bits in rsa_keys), key=lambda g: g.rank or 0)
    if grade is Grade.A:
        return Verdict(Grade.A, GOOD.format(keys=listing))
    weak = [(lookup, key, bits) for lookup, key, bits in rsa_keys if _grade(bits) is not Grade.A]
    weak_listing = ", ".join(f"{lookup.selector} {bits}-bit" for lookup, _, bits in weak)
    if grade is Grade.E:
        summary = TOO_SHORT.format(keys=weak_listing)
    elif all(bits > MAXIMUM for _, _, bits in weak):
        summary = TOO_LONG.format(keys=weak_listing)
    else:
        summary = WEAK.format(keys=weak_listing)
    evidence = tuple(e for lookup, key, _ in weak for e in record_evidence(lookup, key))
    snippet = "\n".join(rotation_steps(lookup, observation.domain) for lookup, _, _ in weak)
    weak_keys = [key for _, key, _ in weak]
    fixed = with_fixed_keys(observation, lambda _, key: example_key() if key in weak_keys else None)
    after = evaluate(fixed)
    return Verdict(
        grade, summary, evidence, Fix(FIX, snippet), AfterFix(after.grade, EFFECT), SEVERITY[grade]
    )


CHECK = Check(
    id="email.dkim.key_size",
    category=Category.EMAIL_DNS,
    severity=Severity.HIGH,
    title=TITLE,
    references=(
        RFC8301,
        Reference("RFC 6376 §3.3.3", "https://www.rfc-editor.org/rfc/rfc6376#section-3.3.3"),
    ),
    observer=DKIM,
    evaluate=evaluate,
)
