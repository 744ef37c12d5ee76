"""What the DMARC checks share: the verdicts for "no single record to grade" and the zone-file line."""

from __future__ import annotations

from mimawari.model import Evidence, Grade, Reference, Status, Text, Verdict
from mimawari.observations.dmarc import DmarcObservation
from mimawari.parse.dmarc import DmarcRecord

RFC7489 = Reference("RFC 7489 §6.3", "https://www.rfc-editor.org/rfc/rfc7489#section-6.3")
RFC9989_TAGS = Reference("RFC 9989 §4.7", "https://www.rfc-editor.org/rfc/rfc9989#section-4.7")

UNKNOWN = Text(
    "Not checked: the DMARC lookup of {name} ended in {outcome}, so the record is unknown. "
    "This does not mean DMARC is missing; scan again.",
    "確認できませんでした。{name} の DMARC 問い合わせが {outcome} で終わったため、レコードが不明です。"
    "DMARC が未設定という意味ではありません。再度スキャンしてください。",
)
NO_RECORD = Text(
    "Not applicable: {domain} has no DMARC record to check (see email.dmarc.policy).",
    "対象外です。{domain} には確認できる DMARC レコードがありません（email.dmarc.policy を参照）。",
)
SEVERAL = Text(
    "Not applicable: {location} has {count} DMARC records, which receivers ignore (see email.dmarc.policy).",
    "対象外です。{location} に DMARC レコードが {count} 件あり、受信側はすべて無視します"
    "（email.dmarc.policy を参照）。",
)


def lookup_evidence(observation: DmarcObservation) -> tuple[Evidence, ...]:
    return tuple(Evidence(str(answer.query), answer.describe()) for answer in observation.lookups)


def single_record(observation: DmarcObservation) -> DmarcRecord | Verdict:
    """The one record receivers use, or the verdict for why there is none (unknown, or not applicable)."""
    evidence = lookup_evidence(observation)
    if observation.status in (Status.TIMEOUT, Status.ERROR):
        failed = observation.lookups[-1]
        return Verdict(
            Grade.UNKNOWN, UNKNOWN.format(name=failed.query.name, outcome=failed.outcome), evidence
        )
    if observation.record is None or observation.location is None:
        if observation.status is Status.PRESENT:
            summary = SEVERAL.format(location=observation.location, count=len(observation.records))
            return Verdict(Grade.NA, summary, evidence)
        return Verdict(Grade.NA, NO_RECORD.format(domain=observation.domain), evidence)
    return observation.record


def record_evidence(observation: DmarcObservation) -> Evidence:
    return Evidence(f"{observation.location} TXT", observation.records[0])


def zone_line(owner: str, record: str) -> str:
    """A TXT record as a zone-file line: ``owner. IN TXT "record"``."""
    return f'{owner.rstrip(".")}. IN TXT "{record}"'
