"""email.bimi.dmarc — BIMI needs DMARC at enforcement (draft-brand-indicators §4.3, §7).

Receivers show a BIMI logo only for mail under a DMARC policy of quarantine or reject applied to all
mail (``pct`` 100 when given, no RFC 9989 ``t=y``). A BIMI record under a weaker or missing policy shows
no logo: D, with the DMARC record to publish, graded by evaluating it. N/A without a usable BIMI record.
"""

from __future__ import annotations

from dataclasses import replace

from mimawari.check import Check
from mimawari.checks.email.dns.bimi.evidence import REFERENCES, zone_line
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
from mimawari.observations.bimi import BIMI, BimiObservation
from mimawari.observations.dmarc import DmarcObservation
from mimawari.parse.dmarc import Policy, parse_dmarc

TITLE = Text("DMARC enforcement for BIMI", "BIMI に必要な DMARC の強制")

NOT_APPLICABLE = Text("No BIMI record asks for a logo.", "ロゴを求める BIMI レコードがありません。")
UNKNOWN = Text(
    "The DMARC policy BIMI depends on could not be determined ({name}: {outcome}). Scan again.",
    "BIMI が前提とする DMARC ポリシーを判定できませんでした（{name}: {outcome}）。再度スキャンしてください。",
)
ENFORCING = Text(
    "DMARC is enforced (p={policy} for all mail), as BIMI requires.",
    "DMARC が強制されています（すべてのメールに p={policy}）。BIMI の要件を満たしています。",
)
WEAK = Text(
    "A BIMI record is published but the DMARC policy that applies is {how}: receivers show no logo until "
    "DMARC is at quarantine or reject for all mail.",
    "BIMI レコードは公開されていますが、適用される DMARC ポリシーが {how} です。DMARC がすべてのメールに"
    "quarantine か reject になるまで、ロゴは表示されません。",
)
FIX = Text(
    "When the DMARC aggregate reports show all legitimate mail passing, raise the policy to quarantine "
    "(or reject) for all mail.",
    "DMARC 集計レポートで正規のメールがすべて合格していることを確認したら、すべてのメールに対して "
    "quarantine（または reject）に引き上げてください。",
)
EFFECT = Text(
    "Mail that fails DMARC is quarantined or refused, and receivers may show your BIMI logo.",
    "DMARC に失敗したメールは隔離または拒否され、受信側は BIMI ロゴを表示できるようになります。",
)


def weakness(dmarc: DmarcObservation) -> str | None:
    """Why the DMARC policy does not qualify for BIMI, or None when it does."""
    if dmarc.status is not Status.PRESENT or not dmarc.records:
        return "missing"
    if len(dmarc.records) > 1:
        return f"undefined ({len(dmarc.records)} records)"
    record = parse_dmarc(dmarc.records[0])
    policy = record.effective_policy(subdomain=dmarc.inherited)
    if policy not in (Policy.QUARANTINE, Policy.REJECT):
        return f"p={policy.value}" if policy is not None else "invalid"
    if record.tag("pct") is not None and record.pct != 100:
        return f"p={policy.value} with pct={record.tag('pct')}"
    if (record.tag("t") or "").lower() == "y":
        return f"p={policy.value} in testing mode (t=y)"
    return None


def evaluate(observation: BimiObservation) -> Verdict:
    dmarc = observation.dmarc
    if not observation.usable or dmarc is None:
        return Verdict(Grade.NA, NOT_APPLICABLE)
    found = tuple(Evidence(str(a.query), a.describe()) for a in dmarc.lookups)
    if not dmarc.status.answered:
        failed = dmarc.lookups[-1]
        return Verdict(Grade.UNKNOWN, UNKNOWN.format(name=failed.query, outcome=failed.outcome), found)
    how = weakness(dmarc)
    if how is None:
        policy = parse_dmarc(dmarc.records[0]).effective_policy(subdomain=dmarc.inherited)
        assert policy is not None
        return Verdict(Grade.A, ENFORCING.format(policy=policy.value), found)
    location = dmarc.location or f"_dmarc.{dmarc.org_domain}"
    fixed = _enforcing(dmarc)
    after = evaluate(
        replace(observation, dmarc=replace(dmarc, status=Status.PRESENT, location=location, records=(fixed,)))
    )
    return Verdict(
        Grade.D,
        WEAK.format(how=how),
        found,
        Fix(FIX, zone_line(location, fixed)),
        AfterFix(after.grade, EFFECT),
    )


def _enforcing(dmarc: DmarcObservation) -> str:
    """The DMARC record at quarantine for all mail, its other tags kept (or a starter record)."""
    if dmarc.status is not Status.PRESENT or not dmarc.records:
        return f"v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@{dmarc.org_domain}"
    record = parse_dmarc(dmarc.records[0])
    tags = {key: value for key, value in record.tags if key not in ("v", "pct", "t")}
    tag = "sp" if dmarc.inherited and "sp" in tags else "p"
    for name in dict.fromkeys((tag, "p")):
        if record.policy(name) not in (Policy.QUARANTINE, Policy.REJECT) and (
            name == tag or not record.policy(name)
        ):
            tags[name] = Policy.QUARANTINE.value
    ordered = {"p": tags.pop("p"), **tags}
    return "; ".join(["v=DMARC1", *(f"{key}={value}" for key, value in ordered.items())])


CHECK = Check(
    id="email.bimi.dmarc",
    category=Category.EMAIL_DNS,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(
        *REFERENCES,
        Reference("RFC 7489 §6.3", "https://www.rfc-editor.org/rfc/rfc7489#section-6.3"),
    ),
    observer=BIMI,
    evaluate=evaluate,
)
