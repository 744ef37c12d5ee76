"""email.mta.vrfy_expn — do the servers confirm addresses to anyone who asks (VRFY, EXPN)?

The probe sends ``VRFY postmaster`` and ``EXPN postmaster`` (every domain must have a postmaster, RFC
5321 §4.5.1, so a server that confirms addresses at all confirms this one). A 250/251 reply confirms the
address or expands the list: attackers harvest valid addresses and list members this way (RFC 5321
§7.3): C. 252 ("cannot verify, will try"), 502 (not implemented) and 5xx refusals reveal nothing: A.
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.mta.base import Outcome, fold, judge, mta_not_graded
from mimawari.model import Category, Fix, Grade, Reference, Severity, Text, Verdict
from mimawari.observations.mta import MTA, MtaObservation, MtaServer
from mimawari.probes import Reply

RFC5321_VRFY = Reference("RFC 5321 §3.5, §7.3", "https://www.rfc-editor.org/rfc/rfc5321#section-7.3")
CONFIRMING = (250, 251)

TITLE = Text("VRFY and EXPN", "VRFY と EXPN")

SILENT = Text(
    "No server confirms addresses through VRFY or EXPN: {servers}.",
    "VRFY・EXPN でアドレスを確認できるサーバーはありません: {servers}。",
)
CONFIRMS = Text(
    "These servers confirm addresses or expand lists to anyone (VRFY/EXPN answered 250): {servers}. "
    "Spammers and attackers use this to collect valid addresses.",
    "次のサーバーは誰に対してもアドレスを確認し、リストを展開します（VRFY/EXPN に 250 で応答）: {servers}。"
    "スパム送信者や攻撃者が有効なアドレスの収集に利用します。",
)
FIX = Text(
    "Turn off VRFY and EXPN for outside clients (Postfix does not implement EXPN):",
    "外部のクライアントに対して VRFY と EXPN を無効にしてください（Postfix は EXPN を実装していません）:",
)
SNIPPET = """# /etc/postfix/main.cf
disable_vrfy_command = yes

# Sendmail (sendmail.mc)
define(`confPRIVACY_FLAGS', `authwarnings,novrfy,noexpn,restrictqrun')dnl

# Exim: remove any acl_smtp_vrfy / acl_smtp_expn that accepts (the default refuses both)"""
EFFECT = Text(
    "The servers no longer confirm which addresses exist.",
    "サーバーがどのアドレスが存在するかを確認させなくなります。",
)


def _seen(command: str, reply: Reply | None) -> str:
    return f"{command} postmaster → {reply.describe() if reply else 'not reached'}"


def _judge(server: MtaServer) -> tuple[Grade, str]:
    vrfy, expn = server.session.vrfy, server.session.expn
    seen = f"{_seen('VRFY', vrfy)}; {_seen('EXPN', expn)}"
    if any(r is not None and r.code in CONFIRMING for r in (vrfy, expn)):
        return Grade.C, seen
    if vrfy is None or expn is None:
        return Grade.UNKNOWN, seen
    return Grade.A, seen


def evaluate(observation: MtaObservation) -> Verdict:
    early = mta_not_graded(observation)
    if early is not None:
        return early
    return fold(
        judge(observation, _judge), Outcome({Grade.A: SILENT, Grade.C: CONFIRMS}, Fix(FIX, SNIPPET), EFFECT)
    )


CHECK = Check(
    id="email.mta.vrfy_expn",
    category=Category.EMAIL_MTA,
    severity=Severity.LOW,
    title=TITLE,
    references=(RFC5321_VRFY,),
    observer=MTA,
    evaluate=evaluate,
)
