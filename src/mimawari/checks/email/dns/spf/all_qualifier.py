"""email.spf.all — what the record says about everyone else: the ``all`` at its end (RFC 7208 §5.1).

Grades: ``-all`` A (receivers may refuse forged mail), ``~all`` B (softfail: forged mail is marked,
usually delivered; fine while DMARC enforces), ``?all`` or no ``all`` at all D (neutral: SPF says
nothing about forgeries), ``+all`` E and critical (every server on the internet passes SPF for the
domain). A ``redirect=`` is followed to the record that decides.
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.dns.spf.common import (
    followed,
    node_source,
    precondition,
    rebuild,
    reference,
    root_evidence,
    unknown_tree,
    zone_line,
)
from mimawari.model import AfterFix, Category, Evidence, Fix, Grade, Severity, Text, Verdict
from mimawari.observations.spf import SPF, SpfNodeStatus, SpfObservation, with_root_record
from mimawari.parse.spf import parse_spf

TITLE = Text("SPF policy for other senders (all)", "他の送信元に対する SPF ポリシー（all）")
GRADES = {"-": Grade.A, "~": Grade.B, "?": Grade.D, "": Grade.D, "+": Grade.E}
SUMMARY = {
    "-": Text(
        "The SPF record of {domain} ends in -all: mail from any other server fails SPF.",
        "{domain} の SPF レコードは -all で終わっています。他のサーバーからのメールは SPF に失敗します。",
    ),
    "~": Text(
        "The SPF record of {domain} ends in ~all: mail from other servers only softfails and is usually "
        "delivered, marked as suspicious.",
        "{domain} の SPF レコードは ~all で終わっています。他のサーバーからのメールは softfail となり、"
        "疑わしいメールとして多くの場合配送されます。",
    ),
    "?": Text(
        "The SPF record of {domain} ends in ?all: SPF is neutral about every other server, so it gives "
        "no protection against forged mail.",
        "{domain} の SPF レコードは ?all で終わっています。他のサーバーについて SPF は中立（neutral）で、"
        "なりすましメールを防げません。",
    ),
    "": Text(
        "The SPF record of {domain} has no all: mail from other servers gets the default result neutral, "
        "so SPF gives no protection against forged mail.",
        "{domain} の SPF レコードに all がありません。他のサーバーからのメールは既定の neutral となり、"
        "なりすましメールを防げません。",
    ),
    "+": Text(
        "The SPF record of {domain} ends in +all: every server on the internet passes SPF for {domain}, "
        "which makes forged mail look authorised.",
        "{domain} の SPF レコードは +all で終わっています。インターネット上のすべてのサーバーが {domain} の "
        "SPF に合格し、なりすましメールが正規のメールに見えてしまいます。",
    ),
}
FIX = Text(
    "Once every server that sends mail as {domain} is listed, end the record in -all. If you are not "
    "sure yet, use ~all and read the DMARC reports first.",
    "{domain} として送信するサーバーをすべて記載したら、レコードの末尾を -all にしてください。"
    "まだ確信がない場合は ~all にし、先に DMARC レポートで確認します。",
)
FIX_OTHER = Text(
    "The deciding record is at {owner} ({via}); change its all to -all there.",
    "判定を決めているのは {owner} のレコード（{via}）です。そちらの all を -all に変更してください。",
)
EFFECT = Text(
    "Receivers may refuse mail from servers the record does not list.",
    "レコードに記載されていないサーバーからのメールを、受信側が拒否できるようになります。",
)


def evaluate(observation: SpfObservation) -> Verdict:
    early = precondition(observation)
    if early is not None:
        return early
    domain = observation.domain
    index, node = followed(observation)
    evidence = root_evidence(observation)
    if index:
        evidence += (Evidence(node_source(node), node.record or node.status.value),)
    if node.status.failed:
        return unknown_tree(observation, evidence)
    if node.status is not SpfNodeStatus.VALID:
        return Verdict(
            Grade.NA, Text("See email.spf.syntax.", "email.spf.syntax を参照してください。"), evidence
        )
    final = parse_spf(node.record).all
    qualifier = final.qualifier.value if final is not None else ""
    grade = GRADES[qualifier]
    summary = SUMMARY[qualifier].format(domain=domain)
    if grade is Grade.A:
        return Verdict(grade, summary, evidence)
    fixed = rebuild(node.record, all_qualifier="-")
    severity = Severity.CRITICAL if qualifier == "+" else None
    if index:
        action = FIX_OTHER.format(owner=node.domain, via=node.via)
        return Verdict(
            grade,
            summary,
            evidence,
            Fix(action, zone_line(node.domain, fixed)),
            AfterFix(Grade.A, EFFECT),
            severity,
        )
    after = evaluate(with_root_record(observation, fixed))
    return Verdict(
        grade,
        summary,
        evidence,
        Fix(FIX.format(domain=domain), zone_line(domain, fixed)),
        AfterFix(after.grade, EFFECT),
        severity,
    )


CHECK = Check(
    id="email.spf.all",
    category=Category.EMAIL_DNS,
    severity=Severity.HIGH,
    title=TITLE,
    references=(reference("5.1"), reference("8")),
    observer=SPF,
    evaluate=evaluate,
)
