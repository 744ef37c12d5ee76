"""email.spf.present — whether the domain publishes an SPF record at all (RFC 7208 §4.5).

No record (result ``none``) grades E: receivers cannot tell forged mail from real mail, and DMARC has
no SPF to align. The fix is a first record derived from the MX hosts (``v=spf1 mx -all``), or
``v=spf1 -all`` for a domain that sends no mail (a Null MX, RFC 7505, or no MX at all). A timeout is
unknown, never "missing".
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.dns.spf.common import reference, root_evidence, zone_line
from mimawari.model import AfterFix, Category, Evidence, Fix, Grade, Severity, Status, Text, Verdict
from mimawari.observations.spf import SPF, SpfObservation, with_root_record

TITLE = Text("SPF record published", "SPF レコードの公開")

UNKNOWN = Text(
    "Whether {domain} has an SPF record is unknown: the TXT lookup ended in {outcome}. This does not "
    "mean SPF is missing; scan again.",
    "{domain} に SPF レコードがあるか判定できませんでした（TXT の問い合わせ結果: {outcome}）。"
    "SPF が未設定という意味ではありません。再度スキャンしてください。",
)
PRESENT = Text("{domain} publishes an SPF record.", "{domain} は SPF レコードを公開しています。")
ABSENT = Text(
    "{domain} publishes no SPF record: receivers get the result none and cannot tell mail from your "
    "servers from forged mail.",
    "{domain} に SPF レコードがありません。受信側の判定結果は none となり、正規のサーバーからのメールと"
    "なりすましメールを区別できません。",
)
FIX_MX = Text(
    "Publish an SPF record that authorises your MX hosts and refuses everything else. If other services "
    "send mail as {domain} (a newsletter tool, a CRM), add them before -all, e.g. include:<provider>.",
    "MX ホストを許可し、それ以外を拒否する SPF レコードを公開してください。他のサービス（メール配信"
    "ツールや CRM など）が {domain} として送信する場合は、-all の前に include:<事業者> などを追加します。",
)
FIX_NO_MAIL = Text(
    "{domain} receives no mail ({why}); if it sends none either, publish an SPF record that authorises "
    "nobody, so that nobody can send as {domain}.",
    "{domain} はメールを受信しません（{why}）。送信もしない場合は、誰も許可しない SPF レコードを公開し、"
    "{domain} を名乗った送信をすべて拒否させてください。",
)
EFFECT = Text(
    "Receivers can check SPF for {domain}: mail from other servers fails SPF, and DMARC gets an aligned "
    "SPF result for your own mail.",
    "受信側が {domain} の SPF を検証できるようになります。他のサーバーからのメールは SPF に失敗し、"
    "正規のメールは DMARC で整合する SPF 結果が得られます。",
)


def starter_record(observation: SpfObservation) -> tuple[str, str]:
    """A first record and, when the domain receives no mail, why (empty otherwise)."""
    mx = observation.mx
    if mx is not None and mx.status is Status.PRESENT:
        if all(r.split()[-1] == "." for r in mx.records):
            return "v=spf1 -all", "Null MX, RFC 7505"
        return "v=spf1 mx -all", ""
    if mx is not None and mx.status is Status.ABSENT:
        return "v=spf1 -all", f"no MX record, {mx.outcome}"
    return "v=spf1 mx -all", ""


def evaluate(observation: SpfObservation) -> Verdict:
    domain = observation.domain
    evidence = root_evidence(observation)
    if observation.status in (Status.TIMEOUT, Status.ERROR):
        outcome = evidence[0].value if evidence else observation.status.value
        return Verdict(Grade.UNKNOWN, UNKNOWN.format(domain=domain, outcome=outcome), evidence)
    if observation.status is Status.PRESENT:
        return Verdict(Grade.A, PRESENT.format(domain=domain), evidence)
    record, why = starter_record(observation)
    if observation.mx is not None:
        evidence += (Evidence(str(observation.mx.query), observation.mx.describe()),)
    action = FIX_NO_MAIL.format(domain=domain, why=why) if why else FIX_MX.format(domain=domain)
    after = evaluate(with_root_record(observation, record))
    return Verdict(
        Grade.E,
        ABSENT.format(domain=domain),
        evidence,
        Fix(action, zone_line(domain, record)),
        AfterFix(after.grade, EFFECT.format(domain=domain)),
    )


CHECK = Check(
    id="email.spf.present",
    category=Category.EMAIL_DNS,
    severity=Severity.HIGH,
    title=TITLE,
    references=(reference("4.5"), reference("2.6.1")),
    observer=SPF,
    evaluate=evaluate,
)
