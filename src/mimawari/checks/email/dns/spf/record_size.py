"""email.spf.record_size — SPF answers that fit in one plain UDP reply (RFC 7208 §3.3, §3.4).

A TXT string holds at most 255 octets, so longer records must be split into several strings (§3.3);
and a reply over 512 bytes is truncated for resolvers without EDNS, which then need TCP (§3.4), where
some fail and the receiver gets temperror. Measured for every TXT answer in the tree (the size counts
all TXT records at the name, not only SPF). Grades: a string over 255 octets E (cannot be served), an
answer that needed TCP even with EDNS D, an answer over 512 bytes C, else A.
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.dns.spf.common import node_source, precondition, reference, unknown_tree
from mimawari.model import AfterFix, Category, Evidence, Fix, Grade, Severity, Text, Verdict
from mimawari.observations.spf import SPF, SpfNode, SpfNodeStatus, SpfObservation

UDP_LIMIT = 512
STRING_LIMIT = 255

TITLE = Text("SPF record size", "SPF レコードのサイズ")
FITS = Text(
    "Every SPF answer of {domain} fits in a 512-byte UDP reply (largest {size} bytes).",
    "{domain} の SPF の応答はすべて 512 バイトの UDP 応答に収まります（最大 {size} バイト）。",
)
LONG_STRING = Text(
    "A TXT string at {where} is {size} octets long; DNS strings hold at most 255 (RFC 7208 §3.3), so "
    "the record cannot be served as published.",
    "{where} の TXT 文字列が {size} オクテットあります。DNS の文字列は最大 255 オクテットのため"
    "（RFC 7208 3.3 節）、このままでは配信できません。",
)
TCP = Text(
    "The TXT answer at {where} did not fit in a UDP reply even with EDNS and needed TCP: receivers "
    "whose resolvers cannot use TCP get temperror.",
    "{where} の TXT 応答は EDNS を使っても UDP に収まらず、TCP が必要でした。TCP を使えないリゾルバーの"
    "受信側では temperror になります。",
)
LARGE = Text(
    "The TXT answer at {where} is {size} bytes, over 512: resolvers without EDNS get a truncated reply "
    "and must retry over TCP (RFC 7208 §3.4).",
    "{where} の TXT 応答は {size} バイトで 512 バイトを超えています。EDNS を使わないリゾルバーでは応答が"
    "切り詰められ、TCP での再問い合わせが必要です（RFC 7208 3.4 節）。",
)
FIX = Text(
    "Make the answer smaller: move verification tokens and other TXT records off {owner} where the "
    "service allows it, remove unused mechanisms, and split long records into strings of at most 255 "
    "characters.",
    "応答を小さくしてください。サービスが許す範囲で検証用トークンなどの TXT レコードを {owner} 以外に移し、"
    "不要なメカニズムを削除し、長いレコードは 255 文字以下の文字列に分割します。",
)
EFFECT = Text(
    "Every resolver gets the SPF record in one UDP reply.",
    "どのリゾルバーでも SPF レコードを 1 回の UDP 応答で受け取れます。",
)


def _grade(node: SpfNode) -> tuple[Grade, Text]:
    where = node_source(node)
    if node.longest_string > STRING_LIMIT:
        return Grade.E, LONG_STRING.format(where=where, size=node.longest_string)
    if node.txt_lookup is not None and node.txt_lookup.via_tcp:
        return Grade.D, TCP.format(where=where)
    if node.answer_bytes > UDP_LIMIT:
        return Grade.C, LARGE.format(where=where, size=node.answer_bytes)
    return Grade.A, FITS


def evaluate(observation: SpfObservation) -> Verdict:
    early = precondition(observation)
    if early is not None:
        return early
    read = [
        n for n in observation.tree if n.txt_lookup is not None and n.status is not SpfNodeStatus.NO_RECORD
    ]
    evidence = tuple(
        Evidence(
            node_source(n),
            f"{n.answer_bytes} bytes, longest string {n.longest_string} octets"
            + (", TCP" if n.txt_lookup is not None and n.txt_lookup.via_tcp else ""),
        )
        for n in read
        if not n.status.failed
    )
    graded = sorted(((*_grade(n), n) for n in read if not n.status.failed), key=lambda g: g[0].rank or 0)
    worst_grade, worst_text, worst = graded[-1]
    if worst_grade is Grade.A:
        if not observation.tree_read:
            return unknown_tree(observation, evidence)
        size = max(n.answer_bytes for n in read if not n.status.failed)
        return Verdict(Grade.A, FITS.format(domain=observation.domain, size=size), evidence)
    return Verdict(
        worst_grade, worst_text, evidence, Fix(FIX.format(owner=worst.domain)), AfterFix(Grade.A, EFFECT)
    )


CHECK = Check(
    id="email.spf.record_size",
    category=Category.EMAIL_DNS,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(reference("3.3"), reference("3.4")),
    observer=SPF,
    evaluate=evaluate,
)
