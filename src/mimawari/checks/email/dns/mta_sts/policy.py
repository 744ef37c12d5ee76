"""email.mta_sts.policy — what the fetched policy tells senders to do (RFC 8461 §3.2, §5).

``mode: enforce`` A: senders refuse to deliver without valid TLS. ``testing`` B: failures are only
reported. ``none`` D: MTA-STS switched off. An invalid policy is ignored by senders: D. A ``max_age``
under a day (RFC 8461 recommends weeks) lets an attacker outwait the cache: one grade lower. The fix
is the next step (testing → enforce) with every MX host covered, graded by evaluating the fixed policy.
N/A when there is no policy to read; unknown when it could not be fetched for a reason that may pass.
"""

from __future__ import annotations

from dataclasses import replace

from mimawari.check import Check
from mimawari.checks.email.dns.mta_sts.fixes import REFERENCES, evidence, fixed_policy, policy_snippet
from mimawari.model import AfterFix, Category, Evidence, Fix, Grade, Reference, Severity, Text, Verdict
from mimawari.observations.mta_sts import MTA_STS, MtaStsObservation, Retrieval
from mimawari.parse.mta_sts import MAX_AGE_RECOMMENDED, StsMode, StsPolicy

TITLE = Text("MTA-STS policy", "MTA-STS ポリシー")

NO_POLICY = Text(
    "There is no MTA-STS policy to read (see the MTA-STS record and policy retrieval checks).",
    "評価できる MTA-STS ポリシーがありません（MTA-STS レコードとポリシー取得のチェックを参照）。",
)
UNKNOWN = Text(
    "The MTA-STS policy could not be read ({problem}). Scan again.",
    "MTA-STS ポリシーを読み取れませんでした（{problem}）。再度スキャンしてください。",
)
INVALID = Text(
    "The MTA-STS policy is invalid ({problems}); senders ignore it, so MTA-STS has no effect.",
    "MTA-STS ポリシーが不正（{problems}）で、送信側に無視されるため MTA-STS は効果がありません。",
)
MODE = {
    StsMode.ENFORCE: Text(
        "The MTA-STS policy is in enforce mode: senders deliver only over TLS with a valid certificate.",
        "MTA-STS ポリシーは enforce モードです。送信側は有効な証明書による TLS でのみ配送します。",
    ),
    StsMode.TESTING: Text(
        "The MTA-STS policy is in testing mode: senders report TLS failures but still deliver, so a "
        "downgrade attack still works.",
        "MTA-STS ポリシーは testing モードです。送信側は TLS の失敗を報告するだけで配送は続けるため、"
        "格下げ攻撃は防げません。",
    ),
    StsMode.NONE: Text(
        "The MTA-STS policy is in mode none: MTA-STS is switched off.",
        "MTA-STS ポリシーが mode: none で、MTA-STS は無効化されています。",
    ),
}
SHORT_MAX_AGE = Text(
    " max_age is {max_age} seconds, under a day: senders forget the policy quickly.",
    " max_age が {max_age} 秒と 1 日未満で、送信側はすぐにポリシーを破棄します。",
)

FIX_VALID = Text(
    "Publish a valid policy file (and change the id in the _mta-sts record so that senders refetch it).",
    "正しいポリシーファイルを公開してください（送信側に再取得させるため、_mta-sts レコードの id も変更します）。",
)
FIX_MODE = {
    StsMode.NONE: Text(
        "Switch the policy to mode: testing and read the TLS-RPT reports.",
        "ポリシーを mode: testing にして、TLS-RPT レポートを確認してください。",
    ),
    StsMode.TESTING: Text(
        "When the TLS-RPT reports show no failures, switch to mode: enforce (every MX host must be listed) "
        "and change the id in the _mta-sts record.",
        "TLS-RPT レポートで失敗がないことを確認したら mode: enforce に切り替え（すべての MX ホストを記載）、"
        "_mta-sts レコードの id を変更してください。",
    ),
    StsMode.ENFORCE: Text(
        "Raise max_age to at least a day; a week or more is usual.",
        "max_age を 1 日以上にしてください。1 週間以上が一般的です。",
    ),
}
EFFECT = {
    StsMode.ENFORCE: Text(
        "Senders refuse to deliver over a downgraded or intercepted connection.",
        "送信側は格下げ・傍受された接続では配送しなくなります。",
    ),
    StsMode.TESTING: Text(
        "Senders report TLS problems to you (TLS-RPT) without refusing mail yet.",
        "送信側はメールを拒否せずに、TLS の問題を（TLS-RPT で）報告するようになります。",
    ),
    StsMode.NONE: Text("MTA-STS stays off.", "MTA-STS は無効のままです。"),
}
GRADES = {StsMode.ENFORCE: Grade.A, StsMode.TESTING: Grade.B, StsMode.NONE: Grade.D}


def evaluate(observation: MtaStsObservation) -> Verdict:
    found = evidence(observation, policy=True)
    fetched = observation.policy_fetch
    if not observation.status.answered:
        lookup = observation.txt_lookup
        return Verdict(Grade.UNKNOWN, UNKNOWN.format(problem=f"{lookup.query}: {lookup.outcome}"), found)
    if fetched is not None and fetched.retrieval is Retrieval.UNKNOWN:
        return Verdict(Grade.UNKNOWN, UNKNOWN.format(problem=fetched.problem), found)
    policy = observation.policy
    if fetched is None or fetched.retrieval is not Retrieval.RETRIEVED or policy is None:
        return Verdict(Grade.NA, NO_POLICY, found)
    if not policy.valid or policy.mode is None:
        fixed = fixed_policy(observation)
        summary = INVALID.format(problems="; ".join(policy.problems))
        return _verdict(
            observation, Grade.D, summary, found, Fix(FIX_VALID, policy_snippet(observation, fixed)), fixed
        )
    grade, summary = GRADES[policy.mode], MODE[policy.mode]
    short = policy.mode is not StsMode.NONE and (policy.max_age or 0) < MAX_AGE_RECOMMENDED
    if short:
        grade = grade.lowered()
        summary = Text(summary.en + SHORT_MAX_AGE.en, summary.ja + SHORT_MAX_AGE.ja).format(
            max_age=policy.max_age
        )
    if grade is Grade.A:
        return Verdict(grade, summary, found)
    next_mode = {StsMode.NONE: StsMode.TESTING, StsMode.TESTING: StsMode.ENFORCE}.get(
        policy.mode, policy.mode
    )
    fixed = fixed_policy(observation, next_mode)
    fix = Fix(FIX_MODE[policy.mode], policy_snippet(observation, fixed))
    return _verdict(observation, grade, summary, found, fix, fixed)


def _verdict(
    observation: MtaStsObservation,
    grade: Grade,
    summary: Text,
    found: tuple[Evidence, ...],
    fix: Fix,
    fixed: StsPolicy,
) -> Verdict:
    after = evaluate(replace(observation, policy=fixed))
    effect = EFFECT[fixed.mode or StsMode.NONE]
    severity = {Grade.B: Severity.LOW, Grade.C: Severity.MEDIUM}.get(grade)
    return Verdict(grade, summary, found, fix, AfterFix(after.grade, effect), severity)


CHECK = Check(
    id="email.mta_sts.policy",
    category=Category.EMAIL_DNS,
    severity=Severity.HIGH,
    title=TITLE,
    references=(
        Reference("RFC 8461 §3.2", "https://www.rfc-editor.org/rfc/rfc8461#section-3.2"),
        Reference("RFC 8461 §5", "https://www.rfc-editor.org/rfc/rfc8461#section-5"),
        REFERENCES[1],
    ),
    observer=MTA_STS,
    evaluate=evaluate,
)
