"""email.spf.void_lookups — at most 2 void lookups (RFC 7208 §4.6.4).

A term whose lookup answers NXDOMAIN or no records is a "void lookup"; receivers return permerror
after the second. The count covers the ``a``, ``mx`` and ``exists`` targets of every record in the
tree, for an IPv4 sender that matches nothing. Grades: none A, 1–2 B (stale entries that count
against the limit), more than 2 E. The fix removes the void terms from the domain's own record.
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
from mimawari.observations.spf import SPF, SpfObservation, with_root_record
from mimawari.parse.spf import Mechanism, Term
from mimawari.parse.spf_macro import target_name

LIMIT = 2

TITLE = Text("SPF void lookups", "SPF の空応答（void lookup）")
NONE = Text(
    "No term of the SPF records of {domain} points at a name without records.",
    "{domain} の SPF レコードには、レコードのない名前を指す項目はありません。",
)
SOME = Text(
    "{count} term(s) of the SPF records of {domain} point at names without records ({names}): stale "
    "entries that count towards the limit of 2 void lookups.",
    "{domain} の SPF レコードの {count} 件の項目が、レコードのない名前を指しています（{names}）。"
    "2 回までの void lookup の上限に数えられる、古い設定です。",
)
OVER = Text(
    "{count} terms of the SPF records of {domain} point at names without records ({names}), more than "
    "the limit of 2: receivers return permerror (RFC 7208 §4.6.4).",
    "{domain} の SPF レコードの {count} 件の項目がレコードのない名前を指しており、上限の 2 回を超えて"
    "います（{names}）。受信側は permerror と判定します（RFC 7208 4.6.4 節）。",
)
FIX = Text(
    "Remove the terms that point at names without records, or publish the records they expect.",
    "レコードのない名前を指す項目を削除するか、想定されたレコードを公開してください。",
)
EFFECT = Text(
    "No lookup of the record comes back empty; receivers no longer count void lookups against it.",
    "レコードの参照で空応答が返らなくなり、void lookup の上限を気にする必要がなくなります。",
)


def _void_term(term: Term, void_queries: set[str], domain: str) -> bool:
    if not isinstance(term, Mechanism) or term.name not in ("a", "mx", "exists"):
        return False
    spec = term.domain_spec
    if spec is not None and spec.has_macros:
        return False
    name = target_name(spec.text).lower() if spec is not None else domain
    return f"{name} {'MX' if term.name == 'mx' else 'A'}" in void_queries


def evaluate(observation: SpfObservation) -> Verdict:
    early = precondition(observation)
    if early is not None:
        return early
    domain, count = observation.domain, observation.void_lookup_count
    voids = [(n, v) for n in observation.tree for v in n.void_lookups]
    evidence = (
        *root_evidence(observation),
        Evidence("void lookups", str(count)),
        *(Evidence(node_source(n), v) for n, v in voids),
    )
    if count <= LIMIT and not observation.complete:
        return unknown_tree(observation, evidence)
    if count == 0:
        return Verdict(Grade.A, NONE.format(domain=domain), evidence)
    names = ", ".join(v.split(":")[0] for _, v in voids)
    root = observation.tree[0]
    own = {v.split(":")[0] for v in root.void_lookups}
    fixed = rebuild(root.record, keep=lambda t: not _void_term(t, own, domain))
    after = evaluate(with_root_record(observation, fixed)) if own else None
    grade, text = (Grade.E, OVER) if count > LIMIT else (Grade.B, SOME)
    return Verdict(
        grade,
        text.format(domain=domain, count=count, names=names),
        evidence,
        Fix(FIX, zone_line(domain, fixed) if own else None),
        AfterFix(after.grade if after is not None else Grade.A, EFFECT),
    )


CHECK = Check(
    id="email.spf.void_lookups",
    category=Category.EMAIL_DNS,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(reference("4.6.4"),),
    observer=SPF,
    evaluate=evaluate,
)
