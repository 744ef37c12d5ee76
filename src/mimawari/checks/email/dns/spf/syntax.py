"""email.spf.syntax — every record a receiver may read is valid SPF (RFC 7208 §4.6, §12).

A syntax error anywhere in a record is a permerror for the whole evaluation (§4.6: the record is
checked whole), whether it is in the domain's own record or in an included one. Grade E for either.
The fix for the own record drops the invalid terms (after you have corrected what they meant); for an
included record it is its operator's to fix, or the include to remove.
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
from mimawari.parse.spf import parse_spf

TITLE = Text("SPF record syntax", "SPF レコードの構文")
VALID = Text(
    "The SPF record of {domain} and the {count} record(s) it includes are valid.",
    "{domain} の SPF レコードと、そこから参照される {count} 件のレコードは正しい構文です。",
)
OWN_INVALID = Text(
    "The SPF record of {domain} has syntax errors ({problems}): every receiver returns permerror, as if "
    "the domain had no usable SPF.",
    "{domain} の SPF レコードに構文エラーがあります（{problems}）。受信側はすべて permerror と判定し、"
    "SPF が使えない状態と同じです。",
)
INCLUDED_INVALID = Text(
    "A record that {domain} includes has syntax errors ({where}): receivers that reach it return "
    "permerror for all mail from {domain}.",
    "{domain} が参照するレコードに構文エラーがあります（{where}）。そこまで評価した受信側は、"
    "{domain} のすべてのメールを permerror と判定します。",
)
FIX_OWN = Text(
    "Correct the invalid terms ({terms}) or remove them. The record below leaves them out; add back the "
    "corrected terms before publishing it.",
    "不正な項目（{terms}）を修正するか削除してください。以下のレコードはそれらを除いたものです。"
    "修正した項目を加えてから公開してください。",
)
FIX_INCLUDED = Text(
    "Ask the operator of {targets} to correct their record, or remove the include from your record.",
    "{targets} の管理者にレコードの修正を依頼するか、自ドメインのレコードから該当する include を"
    "削除してください。",
)
EFFECT = Text(
    "Receivers evaluate the record instead of returning permerror.",
    "受信側は permerror ではなく、レコードの内容で判定します。",
)


def evaluate(observation: SpfObservation) -> Verdict:
    early = precondition(observation)
    if early is not None:
        return early
    domain = observation.domain
    evidence = root_evidence(observation)
    root = observation.tree[0]
    if root.status is SpfNodeStatus.MULTIPLE:
        return Verdict(
            Grade.NA, Text("See email.spf.single.", "email.spf.single を参照してください。"), evidence
        )
    invalid = [n for n in observation.tree if n.status is SpfNodeStatus.INVALID]
    evidence += tuple(Evidence(node_source(n), f"{n.record} — {'; '.join(n.problems)}") for n in invalid)
    if root.status is SpfNodeStatus.INVALID:
        fixed = rebuild(root.record)
        bad = parse_spf(root.record).invalid_terms or root.problems
        fixed_verdict = evaluate(with_root_record(observation, fixed))
        return Verdict(
            Grade.E,
            OWN_INVALID.format(domain=domain, problems="; ".join(root.problems)),
            evidence,
            Fix(FIX_OWN.format(terms=", ".join(bad)), zone_line(domain, fixed)),
            AfterFix(fixed_verdict.grade, EFFECT),
        )
    if invalid:
        vias = {n.via for n in invalid if n.parent == 0}
        fixed = rebuild(root.record, keep=lambda term: term.text not in vias)
        after = evaluate(with_root_record(observation, fixed)) if vias else None
        targets = ", ".join(dict.fromkeys(n.domain for n in invalid))
        return Verdict(
            Grade.E,
            INCLUDED_INVALID.format(domain=domain, where=", ".join(node_source(n) for n in invalid)),
            evidence,
            Fix(FIX_INCLUDED.format(targets=targets), zone_line(domain, fixed) if vias else None),
            AfterFix(after.grade if after is not None else Grade.A, EFFECT),
        )
    if not observation.tree_read:
        return unknown_tree(observation, evidence)
    count = sum(1 for n in observation.tree[1:] if n.status is SpfNodeStatus.VALID)
    return Verdict(Grade.A, VALID.format(domain=domain, count=count), evidence)


CHECK = Check(
    id="email.spf.syntax",
    category=Category.EMAIL_DNS,
    severity=Severity.HIGH,
    title=TITLE,
    references=(reference("4.6"), reference("12")),
    observer=SPF,
    evaluate=evaluate,
)
