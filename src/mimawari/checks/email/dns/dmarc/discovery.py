"""email.dmarc.discovery — do RFC 7489 and RFC 9989 receivers find the same policy and organisational domain?

Receivers that follow RFC 7489 take the organisational domain from the public suffix list; those that
follow RFC 9989 walk the DNS tree (§4.10) and read ``psd`` tags. When the two find different policy
records, the same mail gets different treatment depending on the receiver: C, fixed by publishing the
record at the domain itself (both look there first). When only the organisational domains differ,
relaxed alignment differs between receivers: B, fixed by a record at the suffix-list organisational
domain (with ``psd=n`` when the walk climbed above it). A difference the owner declared with a ``psd``
tag is deliberate and grades A. A walk step that timed out or failed makes the grade unknown.
"""

from __future__ import annotations

from dataclasses import replace

from mimawari.check import Check
from mimawari.checks.email.dns.dmarc.common import SEVERAL, UNKNOWN, zone_line
from mimawari.model import (
    AfterFix,
    Category,
    Evidence,
    Fix,
    Grade,
    Reference,
    Severity,
    Status,
    Text,
    Verdict,
)
from mimawari.observations.dmarc import DMARC, DmarcObservation, TreeWalk, dmarc_records
from mimawari.parse.dmarc import parse_dmarc

TITLE = Text("DMARC policy discovery (RFC 7489 and RFC 9989)", "DMARC ポリシーの検出（RFC 7489 と RFC 9989）")
NONE_FOUND = Text(
    "Not applicable: neither discovery method finds a DMARC record for {domain} (see email.dmarc.policy).",
    "対象外です。どちらの検出方法でも {domain} の DMARC レコードが見つかりません（email.dmarc.policy を参照）。",
)
AGREE = Text(
    "Receivers following RFC 7489 and RFC 9989 find the same record ({location}) and the same organisational "
    "domain ({org}).",
    "RFC 7489 と RFC 9989 のどちらに従う受信側も、同じレコード（{location}）と同じ組織ドメイン（{org}）を"
    "見つけます。",
)
DELIBERATE = Text(
    "The record {psd} makes {walk_org} the organisational domain for RFC 9989 receivers, while RFC 7489 "
    "receivers use {org} from the public suffix list. This is declared on purpose, so it is fine.",
    "{psd} のレコードにより、RFC 9989 の受信側では {walk_org} が組織ドメインになり、RFC 7489 の受信側は公開"
    "サフィックスリストによる {org} を使います。意図的な宣言なので問題ありません。",
)
POLICY_DIFFERS = Text(
    "Receivers disagree on the policy for {domain}: RFC 7489 (public suffix list) finds {psl}, RFC 9989 "
    "(DNS tree walk) finds {walk}. The same mail is treated differently depending on the receiver.",
    "{domain} のポリシーについて受信側の判断が分かれます。RFC 7489（公開サフィックスリスト）では {psl}、"
    "RFC 9989（DNS ツリーウォーク）では {walk} が見つかります。同じメールでも受信側によって扱いが変わります。",
)
ORG_DIFFERS = Text(
    "The organisational domain differs: {org} by the public suffix list (RFC 7489), {walk_org} by the DNS "
    "tree walk (RFC 9989). Mail authenticated with a name under one but not the other aligns for some "
    "receivers and fails DMARC at others.",
    "組織ドメインが一致しません（公開サフィックスリスト（RFC 7489）では {org}、DNS ツリーウォーク（RFC 9989）"
    "では {walk_org}）。一方の配下だけの名前で認証されたメールは、受信側によって DMARC に合格したり失敗したり"
    "します。",
)
NO_RECORD = Text("no record", "レコードなし")
FIX_HERE = Text(
    "Publish the record at {location} so that every receiver finds it first.",
    "すべての受信側が最初に見つけるよう、{location} にレコードを公開してください。",
)
FIX_ORG = Text(
    "Publish a DMARC record at {location} so that the DNS tree walk stops at {org}, as the public suffix "
    "list does.",
    "DNS ツリーウォークが公開サフィックスリストと同じく {org} で止まるよう、{location} に DMARC レコードを公開して"
    "ください。",
)
EFFECT = Text(
    "Every receiver applies the same policy and the same alignment rules.",
    "すべての受信側が同じポリシーと同じアライメント規則を適用します。",
)


def evaluate(observation: DmarcObservation) -> Verdict:
    walk = observation.tree_walk
    evidence = _evidence(observation)
    failed = next((a for a in observation.lookups if not a.status.answered), None)
    if walk is not None and (not walk.status.answered or walk.org_domain is None):
        failed = failed or next((a for a in walk.lookups if not a.status.answered), None)
    if failed is not None or walk is None or walk.org_domain is None:
        name, outcome = (failed.query.name, failed.outcome) if failed else ("the tree walk", "no answer")
        return Verdict(Grade.UNKNOWN, UNKNOWN.format(name=name, outcome=outcome), evidence)
    domain, org, walk_org = observation.domain, observation.org_domain, walk.org_domain
    if observation.status is Status.PRESENT and observation.record is None:
        summary = SEVERAL.format(location=observation.location, count=len(observation.records))
        return Verdict(Grade.NA, summary, evidence)
    if observation.policy_domain is None and walk.policy_domain is None:
        return Verdict(Grade.NA, NONE_FOUND.format(domain=domain), evidence)
    if observation.policy_domain != walk.policy_domain:
        text = _record_text(observation, walk.policy_domain or observation.policy_domain or domain)
        fixed = parse_dmarc(text).rebuilt()
        location = f"_dmarc.{domain}"
        patched_walk = replace(walk, status=Status.PRESENT, policy_domain=domain, found=(domain, *walk.found))
        after = evaluate(replace(observation.with_record(fixed, location), tree_walk=patched_walk))
        summary = POLICY_DIFFERS.format(
            domain=domain, psl=_where(observation.location), walk=_walk_where(walk)
        )
        summary = Text(summary.en, summary.ja.replace("no record", NO_RECORD.ja))
        fix = Fix(FIX_HERE.format(location=location), zone_line(location, fixed))
        return Verdict(Grade.C, summary, evidence, fix, AfterFix(after.grade, EFFECT), Severity.MEDIUM)
    if walk_org == org:
        return Verdict(Grade.A, AGREE.format(location=observation.location, org=org), evidence)
    if walk_org.endswith(f".{org}") and walk.psd:
        return Verdict(Grade.A, DELIBERATE.format(psd=walk.psd, walk_org=walk_org, org=org), evidence)
    location = f"_dmarc.{org}"
    if walk_org.endswith(f".{org}"):
        fixed = parse_dmarc(_record_text(observation, observation.policy_domain or org)).rebuilt()
    else:  # the walk climbed above the suffix-list organisational domain: stop it there
        fixed = parse_dmarc(_record_text(observation, org)).rebuilt(psd="n")
    after = evaluate(replace(observation, tree_walk=replace(walk, org_domain=org)))
    summary = ORG_DIFFERS.format(org=org, walk_org=walk_org)
    fix = Fix(FIX_ORG.format(location=location, org=org), zone_line(location, fixed))
    return Verdict(Grade.B, summary, evidence, fix, AfterFix(after.grade, EFFECT), Severity.LOW)


def _record_text(observation: DmarcObservation, domain: str) -> str:
    """The DMARC record the lookups found at ``_dmarc.<domain>``; else the applied one; else a starter."""
    lookups = (*observation.lookups, *(observation.tree_walk.lookups if observation.tree_walk else ()))
    for answer in lookups:
        if answer.query.name == f"_dmarc.{domain}" and len(records := dmarc_records(answer)) == 1:
            return records[0]
    if observation.record is not None:
        return observation.record.text
    return f"v=DMARC1; p=none; rua=mailto:dmarc-reports@{observation.org_domain}"


def _where(location: str | None) -> str:
    return location or "no record"


def _walk_where(walk: TreeWalk) -> str:
    return f"_dmarc.{walk.policy_domain}" if walk.policy_domain else "no record"


def _evidence(observation: DmarcObservation) -> tuple[Evidence, ...]:
    walk = observation.tree_walk
    answers = {a.query: a for a in (*observation.lookups, *(walk.lookups if walk else ()))}
    evidence = [Evidence(str(query), answer.describe()) for query, answer in answers.items()]
    evidence.append(
        Evidence(
            "RFC 7489 (public suffix list)",
            f"policy record: {_where(observation.location)}; organisational domain: {observation.org_domain}",
        )
    )
    if walk is not None:
        walked = f"walked {', '.join(walk.names)}" + (f"; stopped at {walk.psd}" if walk.psd else "")
        org = walk.org_domain or "undecided"
        evidence.append(
            Evidence(
                "RFC 9989 (DNS tree walk)",
                f"policy record: {_walk_where(walk)}; organisational domain: {org}",
            )
        )
        evidence.append(Evidence("RFC 9989 tree walk queries", walked))
    return tuple(evidence)


CHECK = Check(
    id="email.dmarc.discovery",
    category=Category.EMAIL_DNS,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(
        Reference("RFC 7489 §3.2, §6.6.3", "https://www.rfc-editor.org/rfc/rfc7489#section-6.6.3"),
        Reference("RFC 9989 §4.10", "https://www.rfc-editor.org/rfc/rfc9989#section-4.10"),
    ),
    observer=DMARC,
    evaluate=evaluate,
)
