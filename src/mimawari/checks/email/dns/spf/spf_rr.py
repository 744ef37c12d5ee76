"""email.spf.spf_rr — no record of the obsolete SPF RR type 99 (RFC 7208 §3.1, §14.1).

RFC 7208 discontinued type 99: receivers read TXT only. A leftover type-99 record does no direct harm,
but it is one more place to keep in step, and editors change it believing it is in force. Grades:
none A, present and equal to the TXT record B, present and different C. A timeout is unknown.
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.dns.spf.common import reference, root_evidence
from mimawari.lookup import txt_value
from mimawari.model import AfterFix, Category, Evidence, Fix, Grade, Severity, Status, Text, Verdict
from mimawari.observations.spf import SPF, SpfObservation

TITLE = Text("Obsolete SPF record type (99)", "廃止された SPF レコード型（99）")
ABSENT = Text(
    "{domain} publishes no record of the obsolete SPF type 99.",
    "{domain} に廃止された SPF 型（99）のレコードはありません。",
)
UNKNOWN = Text(
    "The SPF-type (99) lookup for {domain} ended in {outcome}; whether such a record exists is unknown.",
    "{domain} の SPF 型（99）の問い合わせ結果が {outcome} だったため、レコードの有無を判定できません。",
)
SAME = Text(
    "{domain} still publishes an SPF record of the obsolete type 99. Receivers ignore it (RFC 7208 §3.1).",
    "{domain} は廃止された SPF 型（99）のレコードをまだ公開しています。受信側はこれを無視します"
    "（RFC 7208 3.1 節）。",
)
DIFFERENT = Text(
    "{domain} publishes an SPF record of the obsolete type 99 that differs from its TXT record. Receivers "
    "use only the TXT record; whoever edits the type-99 one changes nothing.",
    "{domain} は廃止された SPF 型（99）のレコードを公開しており、その内容が TXT レコードと異なります。"
    "受信側が使うのは TXT レコードだけで、型 99 のレコードを編集しても何も変わりません。",
)
FIX = Text(
    "Delete the type-99 (SPF) record and keep only the TXT record (e.g. with nsupdate, as below).",
    "型 99（SPF）のレコードを削除し、TXT レコードだけを残してください（例: 以下の nsupdate コマンド）。",
)
EFFECT = Text(
    "The SPF policy lives in one place, the TXT record.",
    "SPF ポリシーの置き場所が TXT レコードの 1 か所になります。",
)


def evaluate(observation: SpfObservation) -> Verdict:
    domain, answer = observation.domain, observation.spf_rr
    if answer is None:
        return Verdict(Grade.UNKNOWN, UNKNOWN.format(domain=domain, outcome="not asked"))
    evidence: tuple[Evidence, ...] = (Evidence(str(answer.query), answer.describe()),)
    if not answer.status.answered:
        return Verdict(Grade.UNKNOWN, UNKNOWN.format(domain=domain, outcome=answer.outcome), evidence)
    if answer.status is not Status.PRESENT:
        return Verdict(Grade.A, ABSENT.format(domain=domain), evidence)
    type99 = sorted(txt_value(r) for r in answer.records)
    same = type99 == sorted(observation.records)
    evidence += root_evidence(observation)
    return Verdict(
        Grade.B if same else Grade.C,
        (SAME if same else DIFFERENT).format(domain=domain),
        evidence,
        Fix(FIX, f"update delete {domain}. SPF"),
        AfterFix(Grade.A, EFFECT),
    )


CHECK = Check(
    id="email.spf.spf_rr",
    category=Category.EMAIL_DNS,
    severity=Severity.LOW,
    title=TITLE,
    references=(reference("3.1"), reference("14.1")),
    observer=SPF,
    evaluate=evaluate,
)
