"""email.dkim.key_type — is every key of a type verifiers know, and published in that type's form?

RFC 6376 §3.6.1 knows ``k=rsa`` (the default); RFC 8463 adds ``k=ed25519``, whose ``p=`` is the raw 32-byte
key (§4.2), not a SubjectPublicKeyInfo. A key of another type, or whose ``p=`` holds a different type than
``k=`` says, cannot be used: D, or E when no live key is usable. Ed25519 keys alone grade B: many
receivers still verify only RSA, so RFC 8463 signers add an RSA signature too.
"""

from __future__ import annotations

from dataclasses import replace

from mimawari.check import Check
from mimawari.checks.email.dns.dkim.keys import (
    RFC6376,
    RFC8463,
    delegation_note,
    example_key,
    join,
    nothing_to_judge,
    publish,
    rebuild,
    record_evidence,
    with_fixed_keys,
    zone_txt,
)
from mimawari.lookup import DnsAnswer, Query
from mimawari.model import AfterFix, Category, Fix, Grade, Severity, Status, Text, Verdict
from mimawari.observations.dkim import DKIM, DkimObservation, SelectorLookup
from mimawari.parse.dkim import KEY_TYPES, DkimKeyRecord, parse_dkim_key, raw_ed25519_key

TITLE = Text("DKIM key type", "DKIM 鍵の種類")

KNOWN = Text(
    "Every DKIM key is of a type verifiers know: {keys}.",
    "すべての DKIM 鍵が検証側の対応する種類です: {keys}。",
)
WRONG = Text(
    "{count} DKIM key(s) cannot be used by verifiers: {problems}.",
    "{count} 件の DKIM 鍵は検証側で使用できません: {problems}。",
)
ED25519_ONLY = Text(
    "Only Ed25519 keys were found ({keys}). Many receivers verify only RSA signatures, so mail signed with "
    "Ed25519 alone looks unsigned to them.",
    "Ed25519 鍵のみが見つかりました（{keys}）。RSA 署名しか検証しない受信側が多く、Ed25519 だけで署名された"
    "メールはそれらの受信側では署名なしと同じ扱いになります。",
)
FIX_WRONG = Text(
    "Publish each key with the k= that matches it, in the form its type requires (the corrected records "
    "are below).",
    "各鍵を、鍵に合った k= と、その種類が求める形式で公開してください（修正後のレコードは下記のとおりです）。",
)
FIX_ADD_RSA = Text(
    "Add a 2048-bit RSA key under a second selector and sign every message with both keys (RFC 8463 "
    "dual signing).",
    "2 つ目のセレクターで 2048 ビットの RSA 鍵を追加し、すべてのメールを両方の鍵で署名してください"
    "（RFC 8463 の二重署名）。",
)
EFFECT = Text(
    "Every receiver can verify at least one of your signatures.",
    "すべての受信側が少なくとも 1 つの署名を検証できます。",
)
PLACEHOLDER = "<base64 public key of the signing key>"


def type_problem(key: DkimKeyRecord) -> str:
    """Why verifiers cannot use this key because of its type; empty when they can (or it is revoked)."""
    if key.revoked:
        return ""
    if key.key_type not in KEY_TYPES:
        return f"k={key.key_type} is not a key type verifiers know (RFC 6376 §3.6.1, RFC 8463)"
    if key.key is None:
        return ""  # an undecodable p= is the syntax check's finding
    if key.key.algorithm != key.key_type:
        return f"k={key.key_type}, but p= holds an {key.key.algorithm} key"
    if key.key_type == "ed25519" and key.key.encoding != "raw":
        return "the Ed25519 key is a SubjectPublicKeyInfo; RFC 8463 §4.2 wants the raw 32-byte key"
    return ""


def _corrected(key: DkimKeyRecord) -> str:
    if key.key is None:
        return rebuild(key, k="rsa", p=PLACEHOLDER)
    if key.key.algorithm == "ed25519":
        return rebuild(key, k="ed25519", p=raw_ed25519_key(key.tag("p") or "") or key.tag("p"))
    return rebuild(key, k=key.key.algorithm)


def evaluate(observation: DkimObservation) -> Verdict:
    nothing = nothing_to_judge(observation)
    if nothing is not None:
        return nothing
    keys = observation.keys
    wrong = [(lookup, key, problem) for lookup, key in keys if (problem := type_problem(key))]
    live = [key for _, key in keys if not key.revoked]
    listing = ", ".join(f"{lookup.selector} {key.key_type}" for lookup, key in keys if not key.revoked)
    if wrong:
        evidence = tuple(e for lookup, key, _ in wrong for e in record_evidence(lookup, key))
        problems = "; ".join(f"{lookup.selector}: {problem}" for lookup, _, problem in wrong)
        usable = [key for key in live if key.usable and not type_problem(key)]
        grade = Grade.D if usable else Grade.E
        snippet = "\n".join(publish(lookup, _corrected(key)) for lookup, key, _ in wrong)

        def fixed(lookup: SelectorLookup, key: DkimKeyRecord) -> DkimKeyRecord | None:
            if not type_problem(key):
                return None
            return example_key() if key.key is None else parse_dkim_key(_corrected(key))

        after = evaluate(with_fixed_keys(observation, fixed))
        action = join(FIX_WRONG, delegation_note([lookup for lookup, _, _ in wrong]))
        severity = Severity.MEDIUM if grade is Grade.D else Severity.HIGH
        summary = WRONG.format(count=len(wrong), problems=problems)
        return Verdict(
            grade, summary, evidence, Fix(action, snippet), AfterFix(after.grade, EFFECT), severity
        )
    if live and all(key.key_type == "ed25519" for key in live):
        first = next(lookup for lookup, key in keys if not key.revoked)
        selector = f"{first.selector}-rsa"
        owner = f"{selector}._domainkey.{observation.domain}"
        snippet = zone_txt(owner, f"v=DKIM1; k=rsa; p={PLACEHOLDER}")
        added = SelectorLookup(
            selector, "common", DnsAnswer(Query.of(owner, "TXT"), Status.PRESENT), (example_key(),)
        )
        after = evaluate(replace(observation, selectors=(*observation.selectors, added)))
        summary = ED25519_ONLY.format(keys=listing)
        fix = Fix(FIX_ADD_RSA, snippet)
        evidence = tuple(e for lookup, key in keys for e in record_evidence(lookup, key))
        return Verdict(Grade.B, summary, evidence, fix, AfterFix(after.grade, EFFECT), Severity.LOW)
    return Verdict(Grade.A, KNOWN.format(keys=listing or "none live"))


CHECK = Check(
    id="email.dkim.key_type",
    category=Category.EMAIL_DNS,
    severity=Severity.HIGH,
    title=TITLE,
    references=(RFC6376, RFC8463),
    observer=DKIM,
    evaluate=evaluate,
)
