"""email.dmarc.policy — how strongly receivers are told to treat mail that fails DMARC.

Grades the policy receivers actually apply (RFC 7489 §6.6.3): reject A, quarantine B, none C, nothing
applied E. A policy only partly enforced (``pct`` below 100, or RFC 9989 ``t=y`` testing mode) is one grade
lower. Each fix is the next safe step on the path none → quarantine → reject, and its after-fix grade is
computed by evaluating the fixed record, so the two can never disagree.
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.dns.dmarc.common import lookup_evidence, zone_line
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
from mimawari.observations.dmarc import DMARC, DmarcObservation
from mimawari.parse.dmarc import DmarcRecord, Policy, parse_dmarc

TITLE = Text("DMARC policy", "DMARC ポリシー")

UNKNOWN = Text(
    "The DMARC policy could not be determined: the lookup of {name} ended in {outcome}. "
    "This does not mean DMARC is missing; scan again.",
    "DMARC ポリシーを判定できませんでした（{name} の問い合わせ結果: {outcome}）。"
    "DMARC が未設定という意味ではありません。再度スキャンしてください。",
)
ABSENT = Text(
    "No DMARC record at {names}: anyone can send mail that claims to come from {domain}, and receivers "
    "have no policy to apply to it.",
    "{names} に DMARC レコードがありません。誰でも {domain} を名乗るメールを送信でき、"
    "受信側には適用するポリシーがありません。",
)
MULTIPLE = Text(
    "{count} DMARC records at {location}: receivers must ignore them all (RFC 7489 §6.6.3), so no DMARC "
    "policy applies.",
    "{location} に DMARC レコードが {count} 件あります。受信側はすべて無視するため（RFC 7489 6.6.3 節）、"
    "DMARC ポリシーが適用されません。",
)
INVALID = Text(
    "The DMARC record at {location} is invalid ({problems}) and names no report address, so receivers "
    "apply no DMARC at all.",
    "{location} の DMARC レコードが不正（{problems}）で、レポート送付先もないため、受信側は DMARC を"
    "まったく適用しません。",
)
ENFORCED = {
    Policy.NONE: Text(
        "The DMARC policy is none (monitoring only): mail that fails DMARC, spoofed mail included, is "
        "still delivered.",
        "DMARC ポリシーが none（監視のみ）です。なりすましを含め、DMARC に失敗したメールも配送されます。",
    ),
    Policy.QUARANTINE: Text(
        "The DMARC policy is quarantine: mail that fails DMARC goes to the spam folder instead of being "
        "refused.",
        "DMARC ポリシーが quarantine です。DMARC に失敗したメールは拒否されず、迷惑メールフォルダーに"
        "配送されます。",
    ),
    Policy.REJECT: Text(
        "The DMARC policy is reject: receivers refuse mail that fails DMARC.",
        "DMARC ポリシーが reject です。DMARC に失敗したメールは受信側で拒否されます。",
    ),
}
PARTIAL = Text(
    "The DMARC policy is {policy}, but receivers apply it to only part of the failing mail ({how}).",
    "DMARC ポリシーは {policy} ですが、DMARC に失敗したメールの一部にしか適用されません（{how}）。",
)

FIX_PUBLISH = Text(
    "Publish a DMARC record with p=none and a report address. Read the aggregate reports until every "
    "legitimate sender passes, then move to p=quarantine and p=reject.",
    "p=none と集計レポートの送付先を指定した DMARC レコードを公開してください。正規の送信元がすべて合格する"
    "ことをレポートで確認してから、p=quarantine、p=reject へ移行します。",
)
FIX_KEEP_ONE = Text(
    "Keep exactly one DMARC record at {location} and delete the others.",
    "{location} の DMARC レコードを 1 件だけ残し、他は削除してください。",
)
FIX_REPLACE = Text(
    "Replace the record with a valid one.",
    "正しい形式のレコードに置き換えてください。",
)
FIX_RAISE = {
    Policy.NONE: Text(
        "Once the aggregate reports show that all legitimate mail passes DMARC, raise the policy to "
        "{tag}=quarantine.",
        "集計レポートで正規のメールがすべて DMARC に合格していることを確認したら、{tag}=quarantine に"
        "引き上げてください。",
    ),
    Policy.QUARANTINE: Text(
        "Raise the policy to {tag}=reject so that receivers refuse spoofed mail outright.",
        "{tag}=reject に引き上げ、なりすましメールを受信側で拒否させてください。",
    ),
}
FIX_FULL = Text(
    "Remove {how} so that the policy applies to all mail that fails DMARC.",
    "{how} を削除し、DMARC に失敗したすべてのメールにポリシーが適用されるようにしてください。",
)
EFFECT = {
    None: Text("No DMARC policy applies.", "DMARC ポリシーは適用されません。"),
    Policy.NONE: Text(
        "Receivers send you aggregate reports, so you see who sends mail as your domain; spoofed mail is "
        "still delivered until the policy is raised.",
        "受信側から集計レポートが届き、ドメインを名乗って送信しているのが誰かを把握できます。ポリシーを"
        "引き上げるまで、なりすましメールは配送され続けます。",
    ),
    Policy.QUARANTINE: Text(
        "Receivers put mail that fails DMARC in the spam folder.",
        "DMARC に失敗したメールは受信側で迷惑メールフォルダーに振り分けられます。",
    ),
    Policy.REJECT: Text(
        "Receivers refuse mail that fails DMARC: the domain is protected against direct spoofing.",
        "DMARC に失敗したメールは受信側で拒否され、ドメインの直接のなりすましを防げます。",
    ),
}
SEVERITY = {Grade.B: Severity.LOW, Grade.C: Severity.MEDIUM}


def evaluate(observation: DmarcObservation) -> Verdict:
    evidence = lookup_evidence(observation) + discovery_evidence(observation)
    if observation.status in (Status.TIMEOUT, Status.ERROR):
        failed = observation.lookups[-1]
        summary = UNKNOWN.format(name=failed.query.name, outcome=failed.outcome)
        return Verdict(Grade.UNKNOWN, summary, evidence)
    if observation.status is not Status.PRESENT or observation.location is None:
        names = " / ".join(
            f"_dmarc.{name}" for name in dict.fromkeys((observation.domain, observation.org_domain))
        )
        evidence += tuple(Evidence(f"{name} TXT (ignored: bad v=)", v) for name, v in observation.ignored)
        starter = f"v=DMARC1; p=none; rua=mailto:dmarc-reports@{observation.org_domain}"
        return _verdict(
            observation,
            Grade.E,
            ABSENT.format(names=names, domain=observation.domain),
            evidence,
            Fix(FIX_PUBLISH, zone_line(f"_dmarc.{observation.org_domain}", starter)),
            starter,
        )
    location = observation.location
    if len(observation.records) > 1 or observation.record is None:
        summary = MULTIPLE.format(count=len(observation.records), location=location)
        fix = Fix(FIX_KEEP_ONE.format(location=location), zone_line(location, observation.records[0]))
        return _verdict(observation, Grade.E, summary, evidence, fix, observation.records[0])
    record = observation.record
    if observation.inherited:
        evidence += (
            Evidence("policy source", f"{location} (organisational domain {observation.org_domain})"),
        )
    policy = record.effective_policy(subdomain=observation.inherited)
    if policy is None:
        fixed = record.rebuilt(p=record.policy("p") or "none")
        summary = INVALID.format(location=location, problems="; ".join(record.problems))
        return _verdict(
            observation, Grade.E, summary, evidence, Fix(FIX_REPLACE, zone_line(location, fixed)), fixed
        )
    tag = "sp" if observation.inherited and record.tag("sp") is not None else "p"
    full_grade = {Policy.REJECT: Grade.A, Policy.QUARANTINE: Grade.B, Policy.NONE: Grade.C}[policy]
    partial = _partial_enforcement(record, policy)
    if partial:
        fixed = record.rebuilt(pct=None, t=None)
        summary = PARTIAL.format(policy=policy.value, how=partial)
        fix = Fix(FIX_FULL.format(how=partial), zone_line(location, fixed))
        return _verdict(observation, full_grade.lowered(), summary, evidence, fix, fixed)
    if policy is Policy.REJECT:
        return Verdict(Grade.A, ENFORCED[policy], evidence)
    stronger = Policy.QUARANTINE if policy is Policy.NONE else Policy.REJECT
    fixed = record.rebuilt(**{tag: stronger.value})
    fix = Fix(FIX_RAISE[policy].format(tag=tag), zone_line(location, fixed))
    return _verdict(observation, full_grade, ENFORCED[policy], evidence, fix, fixed)


def discovery_evidence(observation: DmarcObservation) -> tuple[Evidence, ...]:
    """What RFC 9989 receivers find, when it is not what RFC 7489 receivers find."""
    walk = observation.tree_walk
    if walk is None or observation.discovery_agrees is not False:
        return ()
    found = f"_dmarc.{walk.policy_domain}" if walk.policy_domain else "no record"
    return (
        Evidence(
            "RFC 9989 tree walk (differs from RFC 7489)",
            f"policy record: {found}; organisational domain: {walk.org_domain}",
        ),
    )


def _verdict(
    observation: DmarcObservation,
    grade: Grade,
    summary: Text,
    evidence: tuple[Evidence, ...],
    fix: Fix,
    fixed_record: str,
) -> Verdict:
    """A failing verdict whose after-fix grade is the grade of the fixed record, evaluated for real."""
    after = evaluate(observation.with_record(fixed_record))
    policy = parse_dmarc(fixed_record).effective_policy(subdomain=observation.inherited)
    return Verdict(grade, summary, evidence, fix, AfterFix(after.grade, EFFECT[policy]), SEVERITY.get(grade))


def _partial_enforcement(record: DmarcRecord, policy: Policy) -> str:
    """``pct=N`` (RFC 7489) or ``t=y`` (RFC 9989 testing mode) when they weaken an enforcing policy."""
    if policy is Policy.NONE:
        return ""
    parts = []
    if record.pct is not None and record.pct < 100:
        parts.append(f"pct={record.pct}")
    if record.testing:
        parts.append("t=y")
    return ", ".join(parts)


CHECK = Check(
    id="email.dmarc.policy",
    category=Category.EMAIL_DNS,
    severity=Severity.HIGH,
    title=TITLE,
    references=(
        Reference("RFC 7489 §6.3, §6.6.3", "https://www.rfc-editor.org/rfc/rfc7489#section-6.6.3"),
        Reference("RFC 9989 (DMARCbis)", "https://www.rfc-editor.org/rfc/rfc9989"),
    ),
    observer=DMARC,
    evaluate=evaluate,
)
