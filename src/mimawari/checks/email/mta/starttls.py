"""email.mta.starttls — does every MX server offer STARTTLS in its EHLO reply (RFC 3207)?

Without STARTTLS every message to the domain crosses the internet in clear text, readable and alterable
on the way: E. This check only asks whether it is offered; whether the handshake then works and the
certificate is valid are separate checks (email.mta.tls_handshake, email.mta.certificate), because they
are separate facts with separate fixes.
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.mta.base import RFC3207, Outcome, fold, judge, mta_not_graded
from mimawari.model import Category, Fix, Grade, Severity, Text, Verdict
from mimawari.observations.mta import MTA, MtaObservation, MtaServer

TITLE = Text("STARTTLS offered by the mail servers", "メールサーバーの STARTTLS 対応")

OFFERED = Text(
    "Every MX server offers STARTTLS: {servers}.",
    "すべての MX サーバーが STARTTLS を提供しています: {servers}。",
)
NOT_OFFERED = Text(
    "These MX servers do not offer STARTTLS: {servers}. Mail to them arrives in clear text, readable and "
    "alterable by anyone on the path.",
    "次の MX サーバーは STARTTLS を提供していません: {servers}。これらへのメールは平文で届き、経路上の誰でも"
    "読み取り・改ざんできます。",
)
FIX = Text(
    "Turn on opportunistic TLS for incoming mail with a certificate for the MX host name (Postfix shown; "
    "Exim and Exchange equivalents below):",
    "MX ホスト名の証明書を使い、受信メールの日和見 TLS を有効にしてください（Postfix の例。Exim と Exchange の"
    "相当設定も記載）:",
)
SNIPPET = """# /etc/postfix/main.cf
smtpd_tls_security_level = may
smtpd_tls_cert_file = /etc/letsencrypt/live/{host}/fullchain.pem
smtpd_tls_key_file = /etc/letsencrypt/live/{host}/privkey.pem
smtpd_tls_loglevel = 1
# then: postfix reload

# Exim (exim.conf, main section)
tls_advertise_hosts = *
tls_certificate = /etc/letsencrypt/live/{host}/fullchain.pem
tls_privatekey = /etc/letsencrypt/live/{host}/privkey.pem

# Exchange (Exchange Management Shell)
Enable-ExchangeCertificate -Thumbprint <thumbprint> -Services SMTP"""
EFFECT = Text(
    "Senders can encrypt mail to the domain; passive eavesdropping on the way is no longer possible.",
    "送信側がこのドメイン宛のメールを暗号化でき、経路上での盗聴ができなくなります。",
)


def _judge(server: MtaServer) -> tuple[Grade, str]:
    session = server.session
    offered = session.starttls_offered
    if offered is None:
        return Grade.UNKNOWN, f"no EHLO reply seen ({session.describe()})"
    keywords = ", ".join(k.split(" ", 1)[0] for k in session.capabilities) or "no extensions"
    if offered:
        return Grade.A, f"EHLO offers STARTTLS ({keywords})"
    return Grade.E, f"EHLO does not offer STARTTLS ({keywords})"


def evaluate(observation: MtaObservation) -> Verdict:
    early = mta_not_graded(observation)
    if early is not None:
        return early
    judged = judge(observation, _judge)
    failing = next((j.server.host for j in judged if j.grade is Grade.E), observation.domain)
    outcome = Outcome(
        {Grade.A: OFFERED, Grade.E: NOT_OFFERED}, Fix(FIX, SNIPPET.format(host=failing)), EFFECT
    )
    return fold(judged, outcome)


CHECK = Check(
    id="email.mta.starttls",
    category=Category.EMAIL_MTA,
    severity=Severity.HIGH,
    title=TITLE,
    references=(RFC3207,),
    observer=MTA,
    evaluate=evaluate,
)
