"""email.mta.mta_sts_names — would MTA-STS senders accept every MX server?

When the domain's MTA-STS policy was retrieved and is in force (``enforce`` or ``testing``), a sender
checks each MX host before delivering (RFC 8461 §4.1, §4.2): the host name matches an ``mx:`` pattern,
the server offers STARTTLS, and its certificate chains to a trusted root, is valid now and names the MX
host (SAN, or CN without SAN). In ``enforce`` mode a failure means the sender refuses to deliver there:
E; in ``testing`` mode it only produces TLS-RPT failure reports, and would break delivery once
enforced: C. N/A without a policy in force; unknown when the policy lookup or fetch timed out.
"""

from __future__ import annotations

from dataclasses import replace

from mimawari.check import Check
from mimawari.checks.email.mta.base import RFC8461_VALIDATION, Outcome, Rule, fold, judge, mta_not_graded
from mimawari.model import Category, Evidence, Fix, Grade, Severity, Status, Text, Verdict
from mimawari.observations.mta import MTA, MtaObservation, MtaServer
from mimawari.observations.mta_sts import MtaStsObservation, Retrieval
from mimawari.parse.mta_sts import StsMode, StsPolicy
from mimawari.parse.x509 import describe_certificate, name_matches

TITLE = Text("MX servers valid for the MTA-STS policy", "MTA-STS ポリシーに対する MX サーバーの適合")

VALID = Text(
    "Every MX server matches the MTA-STS policy and presents a trusted certificate for its name: {servers}.",
    "すべての MX サーバーが MTA-STS ポリシーに一致し、ホスト名に対する信頼できる証明書を提示しています: "
    "{servers}。",
)
FAILS = {
    StsMode.ENFORCE: Text(
        "Senders that honour the enforced MTA-STS policy refuse to deliver to these servers: {servers}.",
        "enforce の MTA-STS ポリシーに従う送信側は、次のサーバーへの配送を拒否します: {servers}。",
    ),
    StsMode.TESTING: Text(
        "These servers fail the MTA-STS checks: {servers}. In testing mode this only causes failure reports; "
        "once the policy is enforced, senders will refuse to deliver to them.",
        "次のサーバーは MTA-STS の検証に失敗します: {servers}。testing モードでは失敗レポートが出るだけですが、"
        "enforce にすると送信側はこれらへの配送を拒否します。",
    ),
}
NO_POLICY = Text(
    "There is no MTA-STS policy in force to check the servers against.",
    "サーバーを照合できる有効な MTA-STS ポリシーがありません。",
)
POLICY_UNKNOWN = Text(
    "Could not be determined: the MTA-STS policy could not be read ({problem}). This is not a finding; "
    "scan again.",
    "判定できませんでした（MTA-STS ポリシーを読み取れませんでした: {problem}）。問題が見つかったという"
    "意味ではありません。再度スキャンしてください。",
)
FIX = Text(
    "List every MX host in the policy (and change the id in the _mta-sts record), and give every server "
    "a certificate from a public CA that names its MX host (Postfix shown):",
    "すべての MX ホストをポリシーに記載し（_mta-sts レコードの id も変更）、各サーバーに MX ホスト名を含む"
    "公的認証局の証明書を設定してください（Postfix の例）:",
)
CERT_SNIPPET = """# /etc/postfix/main.cf, with a certificate naming {host} (e.g. certbot certonly -d {host})
smtpd_tls_cert_file = /etc/letsencrypt/live/{host}/fullchain.pem
smtpd_tls_key_file = /etc/letsencrypt/live/{host}/privkey.pem"""
EFFECT = Text(
    "MTA-STS senders accept every MX server and deliver over verified TLS.",
    "MTA-STS に従う送信側がすべての MX サーバーを受け入れ、検証済みの TLS で配送します。",
)


def _policy(observation: MtaObservation) -> tuple[StsPolicy | None, Verdict | None]:
    """The policy in force, or the verdict when there is none to check against."""
    sts: MtaStsObservation | None = observation.mta_sts
    evidence: tuple[Evidence, ...] = (observation.mx.mx_evidence(),)
    if sts is None or sts.status is Status.ABSENT:
        return None, Verdict(Grade.NA, NO_POLICY, evidence)
    if not sts.status.answered:
        problem = f"{sts.txt_lookup.query}: {sts.txt_lookup.outcome}"
        return None, Verdict(Grade.UNKNOWN, POLICY_UNKNOWN.format(problem=problem), evidence)
    fetched, policy = sts.policy_fetch, sts.policy
    evidence += (Evidence(sts.policy_url, sts.retrieval.value),)
    if fetched is not None and fetched.retrieval is Retrieval.UNKNOWN:
        return None, Verdict(Grade.UNKNOWN, POLICY_UNKNOWN.format(problem=fetched.problem), evidence)
    usable = sts.retrieval is Retrieval.RETRIEVED and policy is not None and policy.valid
    if not usable or policy is None or policy.mode not in FAILS:
        return None, Verdict(Grade.NA, NO_POLICY, evidence)
    return policy, None


def _rule(policy: StsPolicy, fail: Grade) -> Rule:
    def rule(server: MtaServer) -> tuple[Grade, str]:
        session = server.session
        if not policy.covers(server.host):
            return fail, f"{server.host} matches no mx pattern ({', '.join(policy.mx) or 'none'})"
        if session.status is not Status.PRESENT:
            return Grade.UNKNOWN, session.describe()
        if session.starttls_offered is None:
            return Grade.UNKNOWN, f"no EHLO reply seen ({session.describe()})"
        if not session.starttls_offered:
            return fail, "STARTTLS not offered"
        if session.starttls is not None and session.starttls.code != 220:
            return fail, f"STARTTLS refused: {session.starttls.describe()}"
        handshake = session.tls
        if handshake is None or handshake.status is Status.TIMEOUT:
            return Grade.UNKNOWN, f"no handshake result ({session.detail or 'not reached'})"
        if handshake.status is not Status.PRESENT:
            return fail, f"handshake failed: {handshake.detail}"
        if not handshake.chain:
            return fail, "no certificate presented"
        if handshake.trusted is None:
            return Grade.UNKNOWN, f"trust not judged ({handshake.trust_detail or 'no trust store'})"
        if not handshake.trusted:
            return fail, f"certificate not trusted: {handshake.trust_detail or 'no chain to a trusted root'}"
        facts = describe_certificate(handshake.chain_der[0])
        if isinstance(facts, str):
            return fail, facts
        names = ", ".join(facts.names) or "no names"
        if not name_matches(server.host, facts):
            return fail, f"the certificate names {names}, not {server.host}"
        return Grade.A, f"covered by the policy; trusted certificate for {names}"

    return rule


def evaluate(observation: MtaObservation) -> Verdict:
    early = mta_not_graded(observation)
    if early is not None:
        return early
    policy, verdict = _policy(observation)
    if verdict is not None or policy is None or policy.mode is None:
        return verdict or Verdict(Grade.NA, NO_POLICY)
    fail = Grade.E if policy.mode is StsMode.ENFORCE else Grade.C
    judged = judge(observation, _rule(policy, fail), unanswered=True)
    failing = [j.server for j in judged if j.grade is fail]
    uncovered = [s.host for s in failing if not policy.covers(s.host)]
    fixed = replace(policy, mx=tuple(dict.fromkeys((*policy.mx, *uncovered))))
    url = f"https://mta-sts.{observation.domain}/.well-known/mta-sts.txt"
    parts = [f"# {url}\n{fixed.to_text().rstrip()}"] if uncovered else []
    parts += [
        CERT_SNIPPET.format(host=h) for h in dict.fromkeys(s.host for s in failing if s.host not in uncovered)
    ]
    summaries = {Grade.A: VALID, fail: FAILS[policy.mode]}
    severity = {Grade.C: Severity.MEDIUM} if fail is Grade.C else None
    return fold(judged, Outcome(summaries, Fix(FIX, "\n\n".join(parts) or None), EFFECT, severity))


CHECK = Check(
    id="email.mta.mta_sts_names",
    category=Category.EMAIL_MTA,
    severity=Severity.HIGH,
    title=TITLE,
    references=(RFC8461_VALIDATION,),
    observer=MTA,
    evaluate=evaluate,
)
