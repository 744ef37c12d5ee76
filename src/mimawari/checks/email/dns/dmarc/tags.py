"""email.dmarc.tags — unknown tags, and RFC 7489 tags that RFC 9989 removed.

Receivers ignore unknown tags (RFC 9989 §4.7), so an unknown tag is usually a typo whose intended setting
silently does not apply: C. ``pct``, ``rf`` and ``ri`` were removed by RFC 9989 (Appendix C): receivers
following it ignore them, so they are outdated, not harmful: B. The fix renames a tag that is a near
miss of a known one (``rau`` → ``rua``), drops the rest, and replaces ``pct=0`` with ``t=y``, which is
what RFC 9989 offers for testing a policy.
"""

from __future__ import annotations

from difflib import get_close_matches

from mimawari.check import Check
from mimawari.checks.email.dns.dmarc.common import RFC9989_TAGS, record_evidence, single_record, zone_line
from mimawari.model import AfterFix, Category, Evidence, Fix, Grade, Reference, Severity, Text, Verdict
from mimawari.observations.dmarc import DMARC, DmarcObservation
from mimawari.parse.dmarc import KNOWN_TAGS, REMOVED_TAGS, DmarcRecord, parse_dmarc

TITLE = Text("DMARC unknown and removed tags", "DMARC の不明なタグと廃止されたタグ")
CLEAN = Text(
    "Every tag of the DMARC record at {location} is defined by RFC 9989.",
    "{location} の DMARC レコードのタグはすべて RFC 9989 で定義されたものです。",
)
UNKNOWN_TAGS = Text(
    "The DMARC record at {location} has tags receivers do not know and ignore: {tags}. If one is a typo, "
    "the setting you meant is not applied.",
    "{location} の DMARC レコードに、受信側が認識せず無視するタグがあります: {tags}。入力ミスであれば、"
    "意図した設定は適用されていません。",
)
REMOVED = Text(
    "The DMARC record at {location} uses tags RFC 9989 removed, which receivers following it ignore: {tags}.",
    "{location} の DMARC レコードは、RFC 9989 で廃止され、それに従う受信側が無視するタグを使っています: {tags}。",
)
FIX = Text(
    "Publish the record without them{renames}. To test a policy, use t=y instead of pct.",
    "これらのタグを除いたレコードを公開してください{renames}。ポリシーを試験運用する場合は pct ではなく t=y を"
    "使います。",
)
RENAMES = Text(" (fixing the typo {pairs})", "（入力ミス {pairs} を修正済み）")
EFFECT = Text(
    "Every tag in the record means the same to all receivers.",
    "レコードのすべてのタグが、どの受信側でも同じ意味になります。",
)


def evaluate(observation: DmarcObservation) -> Verdict:
    record = single_record(observation)
    if not isinstance(record, DmarcRecord):
        return record
    location = observation.location or ""
    evidence: tuple[Evidence, ...] = (record_evidence(observation),)
    unknown, removed = record.unknown_tags, record.removed_tags
    if not unknown and not removed:
        return Verdict(Grade.A, CLEAN.format(location=location), evidence)
    evidence += tuple(Evidence(f"unknown tag {tag}", record.tag(tag) or "") for tag in unknown)
    evidence += tuple(Evidence(f"removed tag {tag}", f"replaced by {REMOVED_TAGS[tag]}") for tag in removed)
    changes: dict[str, str | None] = dict.fromkeys((*unknown, *removed))
    renames = []
    for tag in unknown:
        known = _intended(tag, record.tag(tag) or "")
        if known and record.tag(known) is None and known not in changes:
            changes[known] = record.tag(tag)
            renames.append(f"{tag} → {known}")
    if record.pct == 0 and not record.testing:
        changes["t"] = "y"
    fixed = record.rebuilt(**changes)
    if unknown:
        grade, summary = Grade.C, UNKNOWN_TAGS.format(location=location, tags=", ".join(unknown))
    else:
        grade, summary = Grade.B, REMOVED.format(location=location, tags=", ".join(removed))
    if unknown and removed:
        summary = Text(
            f"{summary.en} {REMOVED.format(location=location, tags=', '.join(removed)).en}",
            f"{summary.ja}{REMOVED.format(location=location, tags=', '.join(removed)).ja}",
        )
    note = RENAMES.format(pairs=", ".join(renames)) if renames else Text("", "")
    action = Text(FIX.en.format(renames=note.en), FIX.ja.format(renames=note.ja))
    after = evaluate(observation.with_record(fixed, location))
    severity = Severity.MEDIUM if grade is Grade.C else Severity.LOW
    return Verdict(
        grade,
        summary,
        evidence,
        Fix(action, zone_line(location, fixed)),
        AfterFix(after.grade, EFFECT),
        severity,
    )


def _intended(tag: str, value: str) -> str | None:
    """The known tag ``tag`` is a typo of: letters swapped (``rau``) or a near miss, if ``value`` fits it."""
    swapped = [known for known in KNOWN_TAGS if sorted(known) == sorted(tag)]
    for known in swapped or get_close_matches(tag, KNOWN_TAGS, n=3, cutoff=0.6):
        if parse_dmarc(f"v=DMARC1; {known}={value}").valid(known):
            return known
    return None


CHECK = Check(
    id="email.dmarc.tags",
    category=Category.EMAIL_DNS,
    severity=Severity.LOW,
    title=TITLE,
    references=(
        RFC9989_TAGS,
        Reference("RFC 9989 Appendix C", "https://www.rfc-editor.org/rfc/rfc9989#appendix-C"),
    ),
    observer=DMARC,
    evaluate=evaluate,
)
