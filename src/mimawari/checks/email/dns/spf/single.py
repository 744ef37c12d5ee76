"""email.spf.single — exactly one SPF record (RFC 7208 §4.5, §3.2).

Two or more ``v=spf1`` records at one name are a permerror for every receiver: the domain has, in
effect, no SPF at all. Grade E; the fix merges the records into one (mechanisms of both, in order,
one ``all`` at the end).
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.dns.spf.common import precondition, reference, root_evidence, zone_line
from mimawari.model import AfterFix, Category, Fix, Grade, Severity, Text, Verdict
from mimawari.observations.spf import SPF, SpfObservation, with_root_record
from mimawari.parse.spf import Modifier, parse_spf

TITLE = Text("Single SPF record", "SPF レコードが 1 件であること")
ONE = Text("{domain} publishes exactly one SPF record.", "{domain} の SPF レコードは 1 件です。")
MANY = Text(
    "{domain} publishes {count} SPF records: every receiver returns permerror (RFC 7208 §4.5), so SPF "
    "protects nothing and DMARC sees no SPF pass.",
    "{domain} に SPF レコードが {count} 件あります。受信側はすべて permerror と判定するため"
    "（RFC 7208 4.5 節）、SPF は機能せず、DMARC でも SPF が合格になりません。",
)
FIX = Text(
    "Merge them into one record and delete the others. Check the merged record: it keeps the mechanisms "
    "of all the records and one all at the end.",
    "1 件のレコードに統合し、他は削除してください。統合後のレコードには全レコードのメカニズムと、"
    "末尾に all を 1 つだけ含めます。",
)
EFFECT = Text(
    "Receivers evaluate the merged record instead of returning permerror.",
    "受信側は permerror ではなく、統合後のレコードで判定します。",
)


def merged(records: tuple[str, ...]) -> str:
    """The mechanisms of all ``records``, each once and in order, then the first ``all`` found (or the
    first redirect when none has ``all``) and the first ``exp``."""
    words: list[str] = []
    special: dict[str, str] = {}
    for record in records:
        for term in parse_spf(record).terms:
            key = term.name if isinstance(term, Modifier) or term.name == "all" else ""
            if key in ("all", "redirect", "exp"):
                special.setdefault(key, term.text)
            elif term.text not in words:
                words.append(term.text)
    tail = special.get("all") or special.get("redirect")
    return " ".join(["v=spf1", *words, *filter(None, (tail, special.get("exp")))])


def evaluate(observation: SpfObservation) -> Verdict:
    early = precondition(observation)
    if early is not None:
        return early
    domain = observation.domain
    evidence = root_evidence(observation)
    if len(observation.records) == 1:
        return Verdict(Grade.A, ONE.format(domain=domain), evidence)
    record = merged(observation.records)
    after = evaluate(with_root_record(observation, record))
    return Verdict(
        Grade.E,
        MANY.format(domain=domain, count=len(observation.records)),
        evidence,
        Fix(FIX, zone_line(domain, record)),
        AfterFix(after.grade, EFFECT),
    )


CHECK = Check(
    id="email.spf.single",
    category=Category.EMAIL_DNS,
    severity=Severity.HIGH,
    title=TITLE,
    references=(reference("4.5"), reference("3.2")),
    observer=SPF,
    evaluate=evaluate,
)
