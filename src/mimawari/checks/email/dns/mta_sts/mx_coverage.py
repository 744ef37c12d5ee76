"""email.mta_sts.mx_coverage — does the policy's ``mx`` list cover every MX host (RFC 8461 §4.1, §5).

In enforce mode a sender refuses to deliver to an MX host no ``mx`` pattern matches, so an MX missing
from the policy loses mail: E. In testing mode it only shows up in TLS-RPT reports, and would break
delivery the day the policy is enforced: C. Patterns match exactly, or ``*.example.com`` matches one
left-most label. N/A without a valid policy (mode none included) or without MX hosts.
"""

from __future__ import annotations

from dataclasses import replace

from mimawari.check import Check
from mimawari.checks.email.dns.mta_sts.fixes import (
    REFERENCES,
    covering_patterns,
    evidence,
    mx_evidence,
    policy_snippet,
)
from mimawari.model import AfterFix, Category, Evidence, Fix, Grade, Severity, Text, Verdict
from mimawari.observations.mta_sts import MTA_STS, MtaStsObservation, Retrieval
from mimawari.parse.mta_sts import StsMode

TITLE = Text("MX hosts covered by the MTA-STS policy", "MTA-STS ポリシーによる MX ホストの網羅")

NOT_APPLICABLE = Text(
    "There is no MTA-STS policy in force to compare the MX hosts with.",
    "MX ホストと照合できる有効な MTA-STS ポリシーがありません。",
)
NO_MX = Text("{domain} has no MX hosts to compare.", "{domain} には照合する MX ホストがありません。")
UNKNOWN = Text(
    "The MX hosts or the policy could not be read ({problem}). Scan again.",
    "MX ホストまたはポリシーを読み取れませんでした（{problem}）。再度スキャンしてください。",
)
COVERED = Text(
    "All {count} MX hosts match the policy's mx patterns.",
    "{count} 件の MX ホストすべてがポリシーの mx パターンに一致しています。",
)
UNCOVERED = {
    StsMode.ENFORCE: Text(
        "MX hosts not listed in the enforced MTA-STS policy: {hosts}. Senders that honour MTA-STS refuse to "
        "deliver to them, so mail routed there is lost or delayed.",
        "enforce の MTA-STS ポリシーに記載されていない MX ホストがあります: {hosts}。MTA-STS に従う送信側は"
        "これらへの配送を拒否するため、メールが届かないか遅延します。",
    ),
    StsMode.TESTING: Text(
        "MX hosts not listed in the MTA-STS policy: {hosts}. In testing mode this only causes failure "
        "reports, but it would break delivery to them once the policy is enforced.",
        "MTA-STS ポリシーに記載されていない MX ホストがあります: {hosts}。testing モードでは失敗レポートが"
        "出るだけですが、enforce にするとこれらへの配送ができなくなります。",
    ),
}
FIX = Text(
    "Add an mx line for every MX host to the policy file, and change the id in the _mta-sts record.",
    "すべての MX ホストの mx 行をポリシーファイルに追加し、_mta-sts レコードの id を変更してください。",
)
EFFECT = Text(
    "Senders accept every MX host of the domain; enforcing the policy no longer risks mail.",
    "送信側がドメインのすべての MX ホストを受け入れ、ポリシーを enforce にしてもメールを失う心配がなくなります。",
)


def evaluate(observation: MtaStsObservation) -> Verdict:
    found = evidence(observation) + mx_evidence(observation)
    policy, fetched = observation.policy, observation.policy_fetch
    if not observation.status.answered:
        lookup = observation.txt_lookup
        return Verdict(Grade.UNKNOWN, UNKNOWN.format(problem=f"{lookup.query}: {lookup.outcome}"), found)
    if fetched is not None and fetched.retrieval is Retrieval.UNKNOWN:
        return Verdict(Grade.UNKNOWN, UNKNOWN.format(problem=fetched.problem), found)
    if (
        fetched is None
        or fetched.retrieval is not Retrieval.RETRIEVED
        or policy is None
        or not policy.valid
        or policy.mode not in UNCOVERED
    ):
        return Verdict(Grade.NA, NOT_APPLICABLE, found)
    mx = observation.mx_lookup
    if mx is None or not mx.status.answered:
        problem = f"{mx.query}: {mx.outcome}" if mx is not None else "MX not looked up"
        return Verdict(Grade.UNKNOWN, UNKNOWN.format(problem=problem), found)
    if not observation.mx_hosts:
        return Verdict(Grade.NA, NO_MX.format(domain=observation.domain), found)
    found += (Evidence("policy mx", ", ".join(policy.mx)),)
    uncovered = [host for host in observation.mx_hosts if not policy.covers(host)]
    if not uncovered:
        return Verdict(Grade.A, COVERED.format(count=len(observation.mx_hosts)), found)
    assert policy.mode is not None
    fixed = replace(policy, mx=covering_patterns(observation, policy.mx))
    after = evaluate(replace(observation, policy=fixed))
    enforce = policy.mode is StsMode.ENFORCE
    return Verdict(
        Grade.E if enforce else Grade.C,
        UNCOVERED[policy.mode].format(hosts=", ".join(uncovered)),
        found,
        Fix(FIX, policy_snippet(observation, fixed)),
        AfterFix(after.grade, EFFECT),
        None if enforce else Severity.MEDIUM,
    )


CHECK = Check(
    id="email.mta_sts.mx_coverage",
    category=Category.EMAIL_DNS,
    severity=Severity.HIGH,
    title=TITLE,
    references=REFERENCES[1:],
    observer=MTA_STS,
    evaluate=evaluate,
)
