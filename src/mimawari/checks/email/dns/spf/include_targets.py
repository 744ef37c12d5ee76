"""email.spf.include_targets — every include and redirect target has an SPF record (RFC 7208 §5.2, §6.1).

An ``include:`` or ``redirect=`` whose target publishes no SPF record is a permerror when receivers
reach it (a service was cancelled, a domain expired — and whoever registers it next can authorise
their own servers). Grade E; the fix removes the include from the domain's own record. A target whose
lookup timed out is unknown, never "missing".
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

TITLE = Text("SPF include targets", "SPF の include 先")
ALL_PRESENT = Text(
    "All {count} include and redirect target(s) of {domain} publish an SPF record.",
    "{domain} の include・redirect 先 {count} 件はすべて SPF レコードを公開しています。",
)
NO_INCLUDES = Text(
    "The SPF record of {domain} includes nothing.", "{domain} の SPF レコードは何も参照していません。"
)
MISSING = Text(
    "SPF record(s) of {domain} refer to domains without an SPF record ({where}): receivers that reach "
    "them return permerror, and whoever controls those names can decide what passes.",
    "{domain} の SPF レコードが SPF レコードのないドメインを参照しています（{where}）。そこまで評価した"
    "受信側は permerror と判定し、その名前を管理する者が合否を左右できてしまいます。",
)
FIX = Text(
    "Remove the references to {targets}, or, if you still use that service, replace them with the "
    "include its documentation names today.",
    "{targets} への参照を削除してください。そのサービスを今も使っている場合は、現在のドキュメントに"
    "記載された include に置き換えます。",
)
FIX_INCLUDED = Text(
    "The broken reference is inside a record you include ({where}); ask its operator to fix it, or "
    "remove that include.",
    "問題の参照は参照先のレコード内（{where}）にあります。その管理者に修正を依頼するか、その include を"
    "削除してください。",
)
EFFECT = Text(
    "Receivers no longer hit a missing record while evaluating SPF.",
    "SPF の評価中に、受信側がレコードのない参照先に当たらなくなります。",
)


def evaluate(observation: SpfObservation) -> Verdict:
    early = precondition(observation)
    if early is not None:
        return early
    domain = observation.domain
    targets = [n for n in observation.tree[1:] if n.status is not SpfNodeStatus.NOT_FOLLOWED]
    missing = [n for n in targets if n.status is SpfNodeStatus.NO_RECORD]
    evidence = root_evidence(observation) + tuple(
        Evidence(node_source(n), n.txt_lookup.describe() if n.txt_lookup else n.status.value) for n in targets
    )
    if not missing:
        if any(n.status.failed for n in targets):
            return unknown_tree(observation, evidence)
        if not targets:
            return Verdict(Grade.A, NO_INCLUDES.format(domain=domain), evidence)
        return Verdict(Grade.A, ALL_PRESENT.format(domain=domain, count=len(targets)), evidence)
    where = ", ".join(node_source(n) for n in missing)
    summary = MISSING.format(domain=domain, where=where)
    own = {n.via for n in missing if n.parent == 0}
    if not own:
        return Verdict(
            Grade.E, summary, evidence, Fix(FIX_INCLUDED.format(where=where)), AfterFix(Grade.A, EFFECT)
        )
    fixed = rebuild(observation.tree[0].record, keep=lambda t: t.text not in own)
    after = evaluate(with_root_record(observation, fixed))
    names = ", ".join(n.domain for n in missing if n.parent == 0)
    return Verdict(
        Grade.E,
        summary,
        evidence,
        Fix(FIX.format(targets=names), zone_line(domain, fixed)),
        AfterFix(after.grade, EFFECT),
    )


CHECK = Check(
    id="email.spf.include_targets",
    category=Category.EMAIL_DNS,
    severity=Severity.HIGH,
    title=TITLE,
    references=(reference("5.2"), reference("6.1")),
    observer=SPF,
    evaluate=evaluate,
)
