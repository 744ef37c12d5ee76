"""email.spf.ptr — no ``ptr`` mechanism and no ``%{p}`` macro (RFC 7208 §5.5: "SHOULD NOT be used").

``ptr`` makes every receiver do reverse and forward lookups for each message, is slow and unreliable,
and large receivers skip it, so senders that rely on it fail SPF there. Grade C wherever it appears in
the tree; the fix for the domain's own record drops it (list the servers with ip4:/ip6: or a: instead).
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
from mimawari.parse.spf import Mechanism, Term

TITLE = Text("Deprecated SPF ptr mechanism", "非推奨の SPF ptr メカニズム")
CLEAN = Text(
    "The SPF records of {domain} use neither ptr nor %{{p}}.",
    "{domain} の SPF レコードは ptr も %{{p}} も使っていません。",
)
FOUND = Text(
    "SPF records of {domain} use the deprecated ptr mechanism or %{{p}} macro ({where}): slow for "
    "receivers, and many skip it, so the senders it should cover can fail SPF.",
    "{domain} の SPF レコードが非推奨の ptr メカニズムまたは %{{p}} マクロを使っています（{where}）。"
    "受信側の負荷が大きく、評価しない受信側も多いため、対象の送信元が SPF に失敗することがあります。",
)
FIX = Text(
    "Replace ptr with the addresses of the servers it was meant to cover (ip4:, ip6: or a:).",
    "ptr を、対象としていたサーバーのアドレス（ip4:、ip6:、a:）に置き換えてください。",
)
FIX_INCLUDED = Text(
    "The ptr is in a record you include ({where}); ask its operator to replace it.",
    "ptr は参照先のレコード（{where}）にあります。その管理者に置き換えを依頼してください。",
)
EFFECT = Text(
    "Every receiver evaluates the record the same way, with fewer lookups.",
    "どの受信側でも同じように、より少ない参照回数でレコードが評価されます。",
)


def _is_ptr(term: Term) -> bool:
    spec = term.domain_spec if isinstance(term, Mechanism) else term.value
    return (isinstance(term, Mechanism) and term.name == "ptr") or (spec is not None and "p" in spec.letters)


def evaluate(observation: SpfObservation) -> Verdict:
    early = precondition(observation)
    if early is not None:
        return early
    domain = observation.domain
    users = [n for n in observation.tree if n.uses_ptr and n.status is SpfNodeStatus.VALID]
    evidence = root_evidence(observation) + tuple(Evidence(node_source(n), n.record) for n in users[1:])
    if not users:
        if not observation.tree_read:
            return unknown_tree(observation, evidence)
        return Verdict(Grade.A, CLEAN.format(domain=domain), evidence)
    where = ", ".join(node_source(n) for n in users)
    summary = FOUND.format(domain=domain, where=where)
    root = observation.tree[0]
    if not root.uses_ptr:
        return Verdict(
            Grade.C, summary, evidence, Fix(FIX_INCLUDED.format(where=where)), AfterFix(Grade.A, EFFECT)
        )
    fixed = rebuild(root.record, keep=lambda t: not _is_ptr(t))
    after = evaluate(with_root_record(observation, fixed))
    return Verdict(
        Grade.C, summary, evidence, Fix(FIX, zone_line(domain, fixed)), AfterFix(after.grade, EFFECT)
    )


CHECK = Check(
    id="email.spf.ptr",
    category=Category.EMAIL_DNS,
    severity=Severity.LOW,
    title=TITLE,
    references=(reference("5.5"),),
    observer=SPF,
    evaluate=evaluate,
)
