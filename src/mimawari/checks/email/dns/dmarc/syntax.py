"""email.dmarc.syntax — is the DMARC record well-formed (RFC 7489 §6.3–6.4, RFC 9989 §4.7–4.8)?

A record receivers discard outright (it does not start with ``v=DMARC1``) grades E; invalid ``p``, ``sp``
or ``np`` — which make receivers fall back to ``p=none`` or skip DMARC (RFC 9989 §4.10.1) — grade D; any
other problem (duplicate tags, bad ``adkim``/``aspf``/``fo``/``t``/``psd``/``pct``/``rf``/``ri`` values,
malformed pairs, bad report URIs) grades C, since receivers then use defaults the owner did not choose.
The fix is the record with invalid values dropped, evaluated again for the after-fix grade.
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.dns.dmarc.common import (
    RFC7489,
    RFC9989_TAGS,
    lookup_evidence,
    record_evidence,
    single_record,
    zone_line,
)
from mimawari.model import (
    AfterFix,
    Category,
    Evidence,
    Fix,
    Grade,
    Reference,
    Severity,
    Status,
    Text,
    Verdict,
)
from mimawari.observations.dmarc import DMARC, DmarcObservation
from mimawari.parse.dmarc import DmarcRecord, parse_dmarc

TITLE = Text("DMARC record syntax", "DMARC レコードの構文")
VALID = Text(
    "The DMARC record at {location} is well-formed.", "{location} の DMARC レコードの構文は正しいです。"
)
DISCARDED = Text(
    "The TXT record at {location} looks like DMARC but does not start with v=DMARC1 (exactly, in capitals), "
    "so receivers discard it and apply no DMARC policy.",
    "{location} の TXT レコードは DMARC のように見えますが、v=DMARC1（大文字で正確に）で始まっていないため、"
    "受信側に破棄され DMARC ポリシーが適用されません。",
)
POLICY_BROKEN = Text(
    "The DMARC record at {location} has errors in its policy tags ({problems}): receivers fall back to "
    "p=none or skip DMARC entirely.",
    "{location} の DMARC レコードのポリシータグに誤りがあります（{problems}）。受信側は p=none として扱うか、"
    "DMARC をまったく適用しません。",
)
PROBLEMS = Text(
    "The DMARC record at {location} has syntax errors ({problems}); receivers ignore those parts and use "
    "default values instead.",
    "{location} の DMARC レコードに構文エラーがあります（{problems}）。受信側はその部分を無視し、既定値を使います。",
)
FIX = Text(
    "Publish the corrected record (invalid values removed, v=DMARC1 first), replacing the current one.",
    "誤った値を取り除き v=DMARC1 を先頭にした修正済みレコードを、現在のレコードと置き換えて公開してください。",
)
EFFECT = Text(
    "Receivers read every tag as you intended.",
    "受信側がすべてのタグを意図どおりに解釈します。",
)
SEVERITY = {Grade.C: Severity.MEDIUM, Grade.D: Severity.HIGH, Grade.E: Severity.HIGH}


def evaluate(observation: DmarcObservation) -> Verdict:
    if observation.status is Status.ABSENT and observation.ignored:
        location, text = observation.ignored[0]
        fixed = parse_dmarc(text).rebuilt()
        seen = (*lookup_evidence(observation), Evidence(f"{location} TXT", text))
        return _failing(observation, Grade.E, DISCARDED.format(location=location), seen, fixed, location)
    record = single_record(observation)
    if not isinstance(record, DmarcRecord):
        return record
    location = observation.location or ""
    evidence: tuple[Evidence, ...] = (record_evidence(observation),)
    if not record.problems:
        return Verdict(Grade.A, VALID.format(location=location), evidence)
    problems = "; ".join(record.problems)
    evidence += tuple(Evidence("problem", problem) for problem in record.problems)
    fixed = record.rebuilt(p=record.policy("p") or "none")
    if _policy_broken(record):
        summary = POLICY_BROKEN.format(location=location, problems=problems)
        return _failing(observation, Grade.D, summary, evidence, fixed, location)
    summary = PROBLEMS.format(location=location, problems=problems)
    return _failing(observation, Grade.C, summary, evidence, fixed, location)


def _policy_broken(record: DmarcRecord) -> bool:
    return record.policy("p") is None or any(
        record.tag(name) is not None and record.policy(name) is None for name in ("sp", "np")
    )


def _failing(
    observation: DmarcObservation,
    grade: Grade,
    summary: Text,
    evidence: tuple[Evidence, ...],
    fixed: str,
    location: str,
) -> Verdict:
    after = evaluate(observation.with_record(fixed, location))
    fix = Fix(FIX, zone_line(location, fixed))
    return Verdict(grade, summary, evidence, fix, AfterFix(after.grade, EFFECT), SEVERITY[grade])


CHECK = Check(
    id="email.dmarc.syntax",
    category=Category.EMAIL_DNS,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(
        RFC7489,
        RFC9989_TAGS,
        Reference("RFC 9989 §4.8", "https://www.rfc-editor.org/rfc/rfc9989#section-4.8"),
    ),
    observer=DMARC,
    evaluate=evaluate,
)
