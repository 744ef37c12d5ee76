"""email.dkim.hash_algorithms — does a key restrict signatures to SHA-1 (``h=``)?

``h=`` lists the hash algorithms a key may be used with (RFC 6376 §3.6.1; absent: all). RFC 8301 §3.1:
rsa-sha1 MUST NOT be used for signing or verifying, so a key whose ``h=`` lacks sha256 verifies nothing:
D, or E when that holds for every live key. A key that still allows sha1 next to sha256 grades B: harmless
to verifiers that follow RFC 8301, but it keeps a forbidden algorithm open. The fix is ``h=sha256``.
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.dns.dkim.keys import (
    RFC6376,
    RFC8301,
    delegation_note,
    join,
    nothing_to_judge,
    publish,
    rebuild,
    record_evidence,
    with_fixed_keys,
)
from mimawari.model import AfterFix, Category, Fix, Grade, Severity, Text, Verdict
from mimawari.observations.dkim import DKIM, DkimObservation
from mimawari.parse.dkim import DkimKeyRecord, parse_dkim_key

TITLE = Text("DKIM hash algorithms", "DKIM ハッシュアルゴリズム")

SHA256 = Text("Every DKIM key can be used with sha256.", "すべての DKIM 鍵が sha256 で使用できます。")
NO_SHA256 = Text(
    "DKIM key(s) limited to hash algorithms other than sha256: {keys}. RFC 8301 forbids sha1, so "
    "receivers verify no signature made with them.",
    "sha256 以外のハッシュアルゴリズムに限定された DKIM 鍵があります: {keys}。RFC 8301 は sha1 を禁止している"
    "ため、これらの鍵による署名は検証されません。",
)
ALLOWS_SHA1 = Text(
    "DKIM key(s) still allow sha1 next to sha256: {keys}. RFC 8301 forbids sha1 for signing and verifying.",
    "sha256 に加えて sha1 も許可している DKIM 鍵があります: {keys}。RFC 8301 は署名と検証での sha1 の使用を"
    "禁止しています。",
)
FIX = Text(
    "Set h=sha256 on these keys and make sure the signer uses rsa-sha256 (or ed25519-sha256).",
    "これらの鍵を h=sha256 にし、署名側が rsa-sha256（または ed25519-sha256）を使うようにしてください。",
)
EFFECT = Text(
    "Your keys are used only with sha256, which every verifier accepts.",
    "鍵は sha256 でのみ使用され、すべての検証側で受け入れられます。",
)


def _grade(key: DkimKeyRecord) -> Grade:
    if key.revoked or not key.hash_algorithms:
        return Grade.A
    if not key.allows_sha256:
        return Grade.D
    return Grade.B if key.allows_sha1 else Grade.A


def evaluate(observation: DkimObservation) -> Verdict:
    nothing = nothing_to_judge(observation)
    if nothing is not None:
        return nothing
    graded = [(lookup, key, _grade(key)) for lookup, key in observation.keys]
    weak = [(lookup, key, grade) for lookup, key, grade in graded if grade is not Grade.A]
    if not weak:
        return Verdict(Grade.A, SHA256)
    listing = ", ".join(f"{lookup.selector} h={key.tag('h')}" for lookup, key, _ in weak)
    live = [key for _, key, _ in graded if not key.revoked]
    if any(grade is Grade.D for _, _, grade in weak):
        grade = Grade.E if all(not key.allows_sha256 for key in live) else Grade.D
        summary = NO_SHA256.format(keys=listing)
    else:
        grade, summary = Grade.B, ALLOWS_SHA1.format(keys=listing)
    evidence = tuple(e for lookup, key, _ in weak for e in record_evidence(lookup, key))
    snippet = "\n".join(publish(lookup, rebuild(key, h="sha256")) for lookup, key, _ in weak)
    fixed = with_fixed_keys(
        observation,
        lambda _, key: parse_dkim_key(rebuild(key, h="sha256")) if _grade(key) is not Grade.A else None,
    )
    action = join(FIX, delegation_note([lookup for lookup, _, _ in weak]))
    severity = {Grade.B: Severity.LOW, Grade.D: Severity.MEDIUM}.get(grade, Severity.HIGH)
    return Verdict(
        grade, summary, evidence, Fix(action, snippet), AfterFix(evaluate(fixed).grade, EFFECT), severity
    )


CHECK = Check(
    id="email.dkim.hash_algorithms",
    category=Category.EMAIL_DNS,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(RFC8301, RFC6376),
    observer=DKIM,
    evaluate=evaluate,
)
