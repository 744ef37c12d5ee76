"""email.other.message_alignment — does the sample pass DMARC, by SPF or DKIM aligned with From?

DMARC (RFC 7489 §4.2) passes when SPF passes for the envelope sender's domain, or DKIM for a signing
domain, *aligned* with the From domain (the same organisational domain, or the same name under
``aspf=s``/``adkim=s``). Gmail and Yahoo require it of bulk senders, and reject or junk what fails under
``p=reject``/``p=quarantine``.

Grades: DMARC pass A; aligned authentication but no DMARC record B (receivers have no policy to apply,
and bulk senders need one); DMARC fail, or a From without one domain, E. A DMARC or key lookup that
failed, or SPF not evaluated (no sending IP) while DKIM does not align, is unknown.
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.other.message_base import (
    GMAIL,
    RFC7208,
    RFC7489,
    YAHOO,
    from_evidence,
    without_sample,
)
from mimawari.model import AfterFix, Category, Evidence, Fix, Grade, Severity, Text, Verdict
from mimawari.observations.message import MESSAGE, MessageObservation
from mimawari.observations.message_auth import AuthResult
from mimawari.observations.spf_eval import SpfResult

TITLE = Text("DMARC alignment of the sample message", "サンプルメッセージの DMARC アライメント")
PASS = Text(
    "The message passes DMARC: {detail}.",
    "メッセージは DMARC に合格しています: {detail}。",
)
NO_POLICY = Text(
    "SPF or DKIM passes aligned with {domain}, but {domain} has no DMARC record: receivers have no policy "
    "to apply, and Gmail and Yahoo require one of bulk senders.",
    "SPF または DKIM は {domain} と整合して合格していますが、{domain} に DMARC レコードがありません。受信側が"
    "適用するポリシーがなく、Gmail と Yahoo は一括送信者に DMARC を求めています。",
)
FAIL = Text(
    "The message fails DMARC: {detail}.",
    "メッセージは DMARC に不合格です: {detail}。",
)
UNDECIDED = Text(
    "DMARC cannot be decided: {detail}.",
    "DMARC を判定できません: {detail}。",
)

ALIGN = Text(
    "Make at least one of them align with {domain}, ideally both: sign with DKIM as d={domain} (the "
    "provider's custom-domain DKIM), and send with an envelope sender (Return-Path) in {domain} — a "
    "bounce subdomain CNAME'd to the provider — authorised by SPF. Then publish a DMARC policy:",
    "少なくとも一方（できれば両方）を {domain} と整合させてください。DKIM は d={domain} で署名し（配信事業者の"
    "独自ドメイン DKIM）、エンベロープ送信者（Return-Path）を {domain} 内のアドレス（事業者へ CNAME した"
    "バウンス用サブドメイン）にして SPF で許可します。そのうえで DMARC ポリシーを公開します:",
)
ALIGN_SNIPPET = """# DKIM by your domain (the provider shows the exact records)
<selector>._domainkey.{domain}. IN CNAME <selector>.<provider's DKIM host>.
# envelope sender in your domain, authorised by SPF
bounce.{domain}. IN CNAME <provider's return-path host>.
# the policy (start with p=none and watch the reports, then quarantine, then reject)
_dmarc.{domain}. IN TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@{domain}\""""
PUBLISH = Text(
    "Publish a DMARC record for {domain}; start with p=none and move to quarantine and reject as the "
    "aggregate reports show every sender aligned:",
    "{domain} の DMARC レコードを公開してください。p=none から始め、集約レポートですべての送信元の整合を"
    "確認しながら quarantine、reject へ進めます:",
)
PUBLISH_SNIPPET = '_dmarc.{domain}. IN TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@{domain}"'
EFFECT = Text(
    "Receivers find SPF or DKIM aligned with the From domain and DMARC passes; the message is not junked "
    "or rejected for authentication.",
    "受信側で SPF または DKIM が From ドメインと整合し、DMARC に合格します。認証を理由に迷惑メール扱いや"
    "拒否をされなくなります。",
)


def _evidence(observation: MessageObservation) -> tuple[Evidence, ...]:
    outcome = observation.dmarc_outcome
    dkim = tuple(s.evidence() for s in observation.signatures) or (Evidence("DKIM", "no signature"),)
    return (
        from_evidence(observation),
        *observation.sample_evidence()[1:],
        observation.spf.evidence(),
        *dkim,
        *((outcome.evidence(),) if outcome else ()),
    )


def evaluate(observation: MessageObservation) -> Verdict:
    if (verdict := without_sample(observation)) is not None:
        return verdict
    outcome = observation.dmarc_outcome
    evidence = _evidence(observation)
    domain = observation.from_domain or observation.domain
    if outcome is None:
        return Verdict(Grade.UNKNOWN, UNDECIDED.format(detail="no DMARC evaluation"), evidence)
    after = AfterFix(Grade.A, EFFECT)
    align = Fix(ALIGN.format(domain=domain), ALIGN_SNIPPET.format(domain=domain))
    if outcome.result is AuthResult.PASS:
        return Verdict(Grade.A, PASS.format(detail=outcome.detail), evidence)
    if outcome.result is AuthResult.NONE:
        if outcome.dkim_domains or outcome.spf_aligned:
            fix = Fix(PUBLISH.format(domain=domain), PUBLISH_SNIPPET.format(domain=domain))
            return Verdict(Grade.B, NO_POLICY.format(domain=domain), evidence, fix, after)
        if observation.spf.evaluation is None:
            detail = f"{outcome.detail}, and SPF was not evaluated ({observation.spf.detail})"
            return Verdict(Grade.UNKNOWN, UNDECIDED.format(detail=detail), evidence)
        return Verdict(Grade.E, FAIL.format(detail=outcome.detail), evidence, align, after)
    if outcome.result in (AuthResult.TEMPERROR, AuthResult.NEUTRAL):
        return Verdict(Grade.UNKNOWN, UNDECIDED.format(detail=outcome.detail), evidence)
    if observation.spf.result is SpfResult.TEMPERROR:
        return Verdict(Grade.UNKNOWN, UNDECIDED.format(detail=outcome.detail), evidence)
    return Verdict(Grade.E, FAIL.format(detail=outcome.detail), evidence, align, after)


CHECK = Check(
    id="email.other.message_alignment",
    category=Category.EMAIL_OTHER,
    severity=Severity.HIGH,
    title=TITLE,
    references=(RFC7489, RFC7208, GMAIL, YAHOO),
    observer=MESSAGE,
    evaluate=evaluate,
)
