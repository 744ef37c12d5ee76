"""email.spf.lookup_limit — at most 10 DNS-lookup terms over the whole include tree (RFC 7208 §4.6.4).

Receivers count ``include``, ``a``, ``mx``, ``ptr``, ``exists`` and ``redirect`` across every record
they read and return permerror at the eleventh: mail from a sender listed late in the record then
fails SPF. The count here is the worst case, a sender that matches nothing. Grades: 8 or fewer A,
9–10 B (one more include by a provider breaks it), over 10 or an include loop E.
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.dns.spf.common import (
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

LIMIT = 10
COMFORTABLE = 8

TITLE = Text("SPF DNS-lookup limit", "SPF の DNS 参照回数の上限")
WITHIN = Text(
    "Evaluating the SPF record of {domain} takes {count} DNS-lookup terms (limit 10).",
    "{domain} の SPF レコードの評価に必要な DNS 参照は {count} 回です（上限 10 回）。",
)
NEAR = Text(
    "Evaluating the SPF record of {domain} takes {count} DNS-lookup terms: within the limit of 10, but "
    "one more include by any provider makes receivers return permerror.",
    "{domain} の SPF レコードの評価に必要な DNS 参照は {count} 回です。上限 10 回以内ですが、"
    "いずれかの事業者が include を 1 つ増やすだけで受信側は permerror と判定します。",
)
OVER = Text(
    "Evaluating the SPF record of {domain} takes {count} DNS-lookup terms, more than the limit of 10: "
    "receivers return permerror for senders they have not matched by then (RFC 7208 §4.6.4).",
    "{domain} の SPF レコードの評価に必要な DNS 参照は {count} 回で、上限の 10 回を超えています。"
    "それまでに一致しなかった送信元は permerror と判定されます（RFC 7208 4.6.4 節）。",
)
LOOP = Text(
    "The SPF records of {domain} include each other in a loop ({where}): receivers run into the lookup "
    "limit and return permerror.",
    "{domain} の SPF レコードが循環して参照しています（{where}）。受信側は参照回数の上限に達し、"
    "permerror と判定します。",
)
FIX_REDUCE = Text(
    "Bring the count to 8 or fewer: remove includes of services you no longer use, replace a and mx "
    "with ip4:/ip6: ranges of your own servers, and ask providers with several nested includes for a "
    "single one. The evidence lists what each record costs.",
    "参照回数を 8 回以下にしてください。使っていないサービスの include を削除し、a や mx を自社サーバーの "
    "ip4:/ip6: に置き換え、include を多段に重ねている事業者には 1 つにまとめたものを依頼します。"
    "各レコードの参照回数は証拠欄にあります。",
)
FIX_LOOP = Text(
    "Remove the include that points back ({where}).",
    "循環の原因となっている include を削除してください（{where}）。",
)
EFFECT = Text(
    "Receivers can evaluate the whole record without hitting the limit.",
    "受信側が上限に達することなく、レコード全体を評価できるようになります。",
)


def evaluate(observation: SpfObservation) -> Verdict:
    early = precondition(observation)
    if early is not None:
        return early
    domain, count = observation.domain, observation.lookup_count
    evidence = (
        *root_evidence(observation),
        Evidence("DNS-lookup terms", str(count)),
        *(
            Evidence(node_source(n), f"{n.lookup_terms} lookup term(s)")
            for n in observation.tree
            if n.status is SpfNodeStatus.VALID
        ),
    )
    if observation.include_loop:
        loops = [n for n in observation.tree if n.status is SpfNodeStatus.LOOP]
        where = ", ".join(
            f"{observation.tree[n.parent].domain} → {n.via}" for n in loops if n.parent is not None
        )
        vias = {n.via for n in loops if n.parent == 0}
        fixed = rebuild(observation.tree[0].record, keep=lambda t: t.text not in vias)
        after = evaluate(with_root_record(observation, fixed)) if vias else None
        return Verdict(
            Grade.E,
            LOOP.format(domain=domain, where=where),
            evidence,
            Fix(FIX_LOOP.format(where=where), zone_line(domain, fixed) if vias else None),
            AfterFix(after.grade if after is not None else Grade.A, EFFECT),
        )
    if count > LIMIT:
        return Verdict(
            Grade.E,
            OVER.format(domain=domain, count=count),
            evidence,
            Fix(FIX_REDUCE),
            AfterFix(Grade.A, EFFECT),
        )
    if not observation.tree_read:
        return unknown_tree(observation, evidence)
    if count > COMFORTABLE:
        return Verdict(
            Grade.B,
            NEAR.format(domain=domain, count=count),
            evidence,
            Fix(FIX_REDUCE),
            AfterFix(Grade.A, EFFECT),
        )
    return Verdict(Grade.A, WITHIN.format(domain=domain, count=count), evidence)


CHECK = Check(
    id="email.spf.lookup_limit",
    category=Category.EMAIL_DNS,
    severity=Severity.HIGH,
    title=TITLE,
    references=(reference("4.6.4"),),
    observer=SPF,
    evaluate=evaluate,
)
