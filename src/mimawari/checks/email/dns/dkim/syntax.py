"""email.dkim.syntax — are the key records well-formed?

Grades the tag-list (RFC 6376 §3.2) and key record rules (§3.6.1) of every key found: A when all are
well-formed; C for problems verifiers tolerate (``v=`` not first, an empty tag, several key records at one
selector, §3.6.2.2); D when a key is unusable (its signatures fail: a duplicate tag, a bad ``v=``, no or
undecodable ``p=``, ``s=`` without email) and E when every key found is. Key type, size, flags and hash
algorithms have checks of their own. The fix is the corrected record, and the after-fix grade the grade
of the corrected records.
"""

from __future__ import annotations

from dataclasses import replace

from mimawari.check import Check
from mimawari.checks.email.dns.dkim.keys import (
    RFC6376,
    delegation_note,
    example_key,
    join,
    nothing_to_judge,
    publish,
    rebuild,
    record_evidence,
)
from mimawari.model import AfterFix, Category, Fix, Grade, Reference, Severity, Text, Verdict
from mimawari.observations.dkim import DKIM, DkimObservation, SelectorLookup
from mimawari.parse.dkim import DkimKeyRecord, parse_dkim_key, valid_tag_value

TITLE = Text("DKIM key record syntax", "DKIM 鍵レコードの構文")

VALID = Text(
    "The {count} DKIM key record(s) found are well-formed.",
    "見つかった {count} 件の DKIM 鍵レコードはすべて正しい形式です。",
)
UNUSABLE = Text(
    "{count} DKIM key record(s) cannot be used by receivers, so every signature made with them fails: {problems}.",
    "{count} 件の DKIM 鍵レコードは受信側で使用できず、その鍵による署名はすべて検証に失敗します: {problems}。",
)
TOLERATED = Text(
    "DKIM key records have problems most receivers tolerate: {problems}.",
    "多くの受信側が許容するものの、DKIM 鍵レコードに問題があります: {problems}。",
)
MULTIPLE = (
    "{selector}: {count} key records at one selector; receivers may use any of them (RFC 6376 §3.6.2.2)"
)

FIX = Text(
    "Replace each record below with its corrected form. Where p= could not be decoded, publish the "
    "public key of the signing key again (base64 of the DER key, in one piece).",
    "下記の各レコードを修正後の形式に置き換えてください。p= を復号できなかったレコードは、署名鍵の公開鍵"
    "（DER 形式を base64 にしたもの、途中で切れていないもの）を公開し直してください。",
)
EFFECT = Text(
    "Receivers can parse every key record and verify the signatures made with it.",
    "受信側がすべての鍵レコードを解釈でき、その鍵による署名を検証できます。",
)
PLACEHOLDER = "<base64 public key of the signing key>"


def _problems(lookup: SelectorLookup) -> list[tuple[DkimKeyRecord, str, bool]]:
    found = [
        (key, f"{lookup.selector}: {problem.text}", problem.fatal)
        for key in lookup.keys
        for problem in key.problems
    ]
    if len(lookup.keys) > 1:
        found.append(
            (lookup.keys[0], MULTIPLE.format(selector=lookup.selector, count=len(lookup.keys)), False)
        )
    return found


def evaluate(observation: DkimObservation) -> Verdict:
    nothing = nothing_to_judge(observation)
    if nothing is not None:
        return nothing
    faulty = [(lookup, problems) for lookup in observation.found if (problems := _problems(lookup))]
    if not faulty:
        return Verdict(Grade.A, VALID.format(count=len(observation.keys)))
    evidence = tuple(
        e
        for lookup, problems in faulty
        for key in dict.fromkeys(k for k, _, _ in problems)
        for e in record_evidence(lookup, key)
    )
    fatal = [text for _, problems in faulty for _, text, is_fatal in problems if is_fatal]
    if fatal:
        live = [key for _, key in observation.keys if not key.revoked]
        broken = [key for _, key in observation.keys if any(problem.fatal for problem in key.problems)]
        grade = Grade.E if live and all(not key.usable for key in live) else Grade.D
        summary = UNUSABLE.format(count=len(broken), problems="; ".join(fatal))
    else:
        grade = Grade.C
        summary = TOLERATED.format(
            problems="; ".join(text for _, problems in faulty for _, text, _ in problems)
        )
    snippet = "\n".join(publish(lookup, _corrected(_kept(lookup))) for lookup, _ in faulty)
    after = evaluate(_fixed(observation, {lookup.selector for lookup, _ in faulty}))
    fix = Fix(join(FIX, delegation_note([lookup for lookup, _ in faulty])), snippet)
    severity = {Grade.C: Severity.LOW, Grade.D: Severity.MEDIUM}.get(grade, Severity.HIGH)
    return Verdict(grade, summary, evidence, fix, AfterFix(after.grade, EFFECT), severity)


def _key_is_broken(key: DkimKeyRecord) -> bool:
    return key.key is None and not key.revoked


def _kept(lookup: SelectorLookup) -> DkimKeyRecord:
    """The record to keep at a selector with several: the first usable one."""
    return next((key for key in lookup.keys if key.usable), lookup.keys[0])


def _corrected(key: DkimKeyRecord) -> str:
    """The record rebuilt from its valid tags: v=DKIM1 first, no email-excluding s=, a placeholder for a bad p=."""
    changes: dict[str, str | None] = {name: None for name, value in key.tags if not valid_tag_value(value)}
    if "*" not in key.service_types and "email" not in key.service_types:
        changes["s"] = None
    if _key_is_broken(key):
        changes["p"] = PLACEHOLDER
    return rebuild(key, **changes)


def _fixed(observation: DkimObservation, selectors: set[str]) -> DkimObservation:
    """Each faulty selector holding only its corrected record; a re-published key stands in for a bad p=."""

    def after(key: DkimKeyRecord) -> DkimKeyRecord:
        return example_key() if _key_is_broken(key) else parse_dkim_key(_corrected(key))

    return replace(
        observation,
        selectors=tuple(
            replace(lookup, keys=(after(_kept(lookup)),)) if lookup.selector in selectors else lookup
            for lookup in observation.selectors
        ),
    )


CHECK = Check(
    id="email.dkim.syntax",
    category=Category.EMAIL_DNS,
    severity=Severity.HIGH,
    title=TITLE,
    references=(Reference("RFC 6376 §3.2", "https://www.rfc-editor.org/rfc/rfc6376#section-3.2"), RFC6376),
    observer=DKIM,
    evaluate=evaluate,
)
