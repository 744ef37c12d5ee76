"""email.dmarc.subdomain_policy — ``sp`` (existing subdomains) and ``np`` (non-existent subdomains).

Only the organisational domain's record governs subdomains (RFC 7489 §6.6.3, RFC 9989 §4.10.1), so the
check applies to that record. A subdomain policy weaker than ``p`` leaves subdomains spoofable: graded
like the policy itself (quarantine B, none C). Non-existent subdomains send no legitimate mail, so
``np=reject`` (RFC 9989 §4.7) is safe whatever ``p`` is; without it (``np`` weaker than reject) the
grade is at most B. ``t=y`` is graded by email.dmarc.policy, not here.
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.dns.dmarc.common import RFC9989_TAGS, record_evidence, single_record, zone_line
from mimawari.model import AfterFix, Category, Evidence, Fix, Grade, Reference, Severity, Text, Verdict
from mimawari.observations.dmarc import DMARC, DmarcObservation
from mimawari.parse.dmarc import DmarcRecord, Policy

TITLE = Text("DMARC subdomain policies (sp, np)", "DMARC サブドメインポリシー（sp・np）")
NOT_ORG = Text(
    "Not applicable: the record at {location} is not the organisational domain's ({org}), so its sp and np "
    "govern no subdomain.",
    "対象外です。{location} のレコードは組織ドメイン（{org}）のものではないため、sp と np はどのサブドメインにも"
    "適用されません。",
)
INVALID = Text(
    "Not applicable: the record at {location} has no valid policy (see email.dmarc.syntax).",
    "対象外です。{location} のレコードに有効なポリシーがありません（email.dmarc.syntax を参照）。",
)
STRONG = Text(
    "Subdomains are as protected as the domain: existing subdomains {sp}, non-existent subdomains {np}.",
    "サブドメインもドメインと同等に保護されています（既存のサブドメイン: {sp}、存在しないサブドメイン: {np}）。",
)
SP_WEAK = Text(
    "Existing subdomains get {sp}, weaker than p={p}: spoofed mail from any subdomain of {org} is treated "
    "more leniently than mail from {org} itself.",
    "既存のサブドメインには {sp} が適用され、p={p} より弱くなっています。{org} のサブドメインを名乗る"
    "なりすましメールは、{org} 自体よりも緩やかに扱われます。",
)
NP_WEAK = Text(
    "Non-existent subdomains get {np}: mail from made-up names such as random.{org} is {treatment}. They "
    "send no legitimate mail, so np=reject is safe.",
    "存在しないサブドメインには {np} が適用され、random.{org} のような架空の名前からのメールが{treatment}。"
    "正規のメールを送ることはないため、np=reject にしても問題ありません。",
)
TREATMENT = {
    Policy.NONE: Text("delivered", "配送されます"),
    Policy.QUARANTINE: Text(
        "put in the spam folder, not refused", "拒否されず迷惑メールフォルダーに入ります"
    ),
}
FIX = Text(
    "Publish the record with {changes}. Raise sp only after the aggregate reports show that mail from your "
    "subdomains passes DMARC.",
    "{changes} にしたレコードを公開してください。sp は、サブドメインからのメールが DMARC に合格していることを"
    "集計レポートで確認してから引き上げてください。",
)
EFFECT = Text(
    "Spoofed mail from subdomains is treated as strictly as mail from the domain itself.",
    "サブドメインを名乗るなりすましメールも、ドメイン自体と同じく厳しく扱われます。",
)
LEVEL = {Policy.NONE: Grade.C, Policy.QUARANTINE: Grade.B, Policy.REJECT: Grade.A}


def evaluate(observation: DmarcObservation) -> Verdict:
    record = single_record(observation)
    if not isinstance(record, DmarcRecord):
        return record
    location = observation.location or ""
    evidence: tuple[Evidence, ...] = (record_evidence(observation),)
    walk_org = observation.tree_walk.org_domain if observation.tree_walk else None
    org = observation.policy_domain or observation.org_domain
    if org not in (observation.org_domain, walk_org) and record.psd != "n":
        return Verdict(Grade.NA, NOT_ORG.format(location=location, org=observation.org_domain), evidence)
    p = record.effective_policy(subdomain=False)
    sp = record.effective_policy(subdomain=True)
    np = record.effective_policy(subdomain=True, nonexistent=True)
    if p is None or sp is None or np is None or record.policy("p") is None:
        return Verdict(Grade.NA, INVALID.format(location=location), evidence)
    evidence += (Evidence("policies", f"p={p.value} sp={sp.value} np={np.value}"),)
    grade, texts, changes = Grade.A, [], dict[str, str | None]()
    if sp.strength < p.strength:
        grade = LEVEL[sp]
        texts.append(SP_WEAK.format(sp=f"sp={sp.value}", p=p.value, org=org))
        changes["sp"] = None
    if np is not Policy.REJECT:
        # np no weaker than p is a missed hardening (B); np weaker than p is graded like a policy.
        grade = max(grade, Grade.B if np.strength >= p.strength else LEVEL[np], key=_rank)
        treatment = TREATMENT[np]
        texts.append(
            Text(
                NP_WEAK.en.format(np=f"np={np.value}", org=org, treatment=treatment.en),
                NP_WEAK.ja.format(np=f"np={np.value}", org=org, treatment=treatment.ja),
            )
        )
        changes["np"] = Policy.REJECT.value
    if grade is Grade.A:
        return Verdict(Grade.A, STRONG.format(sp=sp.value, np=np.value), evidence)
    fixed = record.rebuilt(**changes)
    wording = ", ".join("sp removed (so p applies)" if k == "sp" else f"{k}={v}" for k, v in changes.items())
    wording_ja = "、".join("sp を削除（p を適用）" if k == "sp" else f"{k}={v}" for k, v in changes.items())
    summary = Text(" ".join(t.en for t in texts), "".join(t.ja for t in texts))
    action = Text(FIX.en.format(changes=wording), FIX.ja.format(changes=wording_ja))
    after = evaluate(observation.with_record(fixed, location))
    return Verdict(
        grade,
        summary,
        evidence,
        Fix(action, zone_line(location, fixed)),
        AfterFix(after.grade, EFFECT),
        Severity.MEDIUM if grade is Grade.C else Severity.LOW,
    )


def _rank(grade: Grade) -> int:
    return grade.rank if grade.rank is not None else -1


CHECK = Check(
    id="email.dmarc.subdomain_policy",
    category=Category.EMAIL_DNS,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(
        RFC9989_TAGS,
        Reference("RFC 9989 §4.10.1", "https://www.rfc-editor.org/rfc/rfc9989#section-4.10.1"),
    ),
    observer=DMARC,
    evaluate=evaluate,
)
