"""email.mta.auth_before_tls — is SMTP AUTH offered on port 25 before STARTTLS?

A server that lists AUTH in its clear-text EHLO reply invites clients to send credentials unencrypted;
with PLAIN or LOGIN the password itself crosses the network readable (RFC 4954 §4 requires a
configuration that refuses plain-text mechanisms without TLS): D. Only challenge-response mechanisms
(CRAM-MD5, SCRAM, GSSAPI …) still expose the exchange to offline guessing: C. AUTH offered only after
STARTTLS, or not at all on port 25 (users submit on 587/465, RFC 8314): A.
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.mta.base import Outcome, fold, judge, mta_not_graded
from mimawari.model import Category, Fix, Grade, Reference, Severity, Text, Verdict
from mimawari.observations.mta import MTA, MtaObservation, MtaServer

RFC4954 = Reference("RFC 4954 §4", "https://www.rfc-editor.org/rfc/rfc4954#section-4")
RFC8314 = Reference("RFC 8314 §3", "https://www.rfc-editor.org/rfc/rfc8314#section-3")
CLEAR_TEXT = frozenset({"PLAIN", "LOGIN", "XOAUTH2", "OAUTHBEARER"})
"""Mechanisms that send the password (or a bearer token) as it is."""

TITLE = Text("Authentication offered before TLS", "TLS 前の認証（AUTH）の提供")

SAFE = Text(
    "No server offers AUTH before STARTTLS: {servers}.",
    "STARTTLS の前に AUTH を提供するサーバーはありません: {servers}。",
)
CHALLENGE = Text(
    "These servers offer AUTH before STARTTLS, with challenge-response mechanisms only: {servers}. The "
    "exchange can be recorded and the password guessed offline.",
    "次のサーバーは STARTTLS の前にチャレンジ・レスポンス方式だけの AUTH を提供しています: {servers}。"
    "やり取りを記録され、パスワードをオフラインで推測されるおそれがあります。",
)
CLEAR = Text(
    "These servers offer AUTH with plain-text mechanisms before STARTTLS: {servers}. Clients can send "
    "user names and passwords unencrypted.",
    "次のサーバーは STARTTLS の前に平文の認証方式を含む AUTH を提供しています: {servers}。クライアントが"
    "ユーザー名とパスワードを暗号化せずに送信するおそれがあります。",
)
FIX = Text(
    "Offer AUTH only over TLS — better, not on port 25 at all, only on submission (587/465):",
    "AUTH は TLS 上でのみ提供してください。ポート 25 では提供せず、サブミッション（587/465）だけで提供するのが"
    "より良い方法です:",
)
SNIPPET = """# /etc/postfix/main.cf
smtpd_tls_auth_only = yes
# better: no AUTH on port 25; enable it for submission only, in master.cf:
#   submission inet n - y - - smtpd -o smtpd_tls_security_level=encrypt -o smtpd_sasl_auth_enable=yes
smtpd_sasl_auth_enable = no

# Exim (main section)
auth_advertise_hosts = ${if eq{$tls_in_cipher}{}{}{*}}

# Exchange
Set-ReceiveConnector "<server>\\Default Frontend <server>" -AuthMechanism 'Tls, BasicAuth, BasicAuthRequireTLS'"""
EFFECT = Text(
    "Credentials are only ever sent inside TLS.",
    "認証情報は必ず TLS の中で送信されるようになります。",
)


def _mechanisms(capabilities: tuple[str, ...]) -> tuple[str, ...] | None:
    """The mechanisms of an AUTH (or old ``AUTH=``) keyword; None when AUTH is not offered."""
    found: tuple[str, ...] | None = None
    for capability in capabilities:
        keyword, _, parameters = capability.partition(" ")
        if keyword == "AUTH" or keyword.startswith("AUTH="):
            words = parameters.split() + keyword.partition("=")[2].split()
            found = (*(found or ()), *(w.upper() for w in words))
    return found


def _judge(server: MtaServer) -> tuple[Grade, str]:
    session = server.session
    if session.starttls_offered is None:
        return Grade.UNKNOWN, f"no EHLO reply seen ({session.describe()})"
    mechanisms = _mechanisms(session.capabilities)
    if mechanisms is None:
        later = _mechanisms(session.capabilities_tls)
        return Grade.A, "no AUTH before STARTTLS" + (f"; after: AUTH {' '.join(later)}" if later else "")
    seen = f"EHLO before STARTTLS offers AUTH {' '.join(mechanisms)}".rstrip()
    if not mechanisms or CLEAR_TEXT & set(mechanisms):
        return Grade.D, seen
    return Grade.C, seen


def evaluate(observation: MtaObservation) -> Verdict:
    early = mta_not_graded(observation)
    if early is not None:
        return early
    summaries = {Grade.A: SAFE, Grade.C: CHALLENGE, Grade.D: CLEAR}
    return fold(judge(observation, _judge), Outcome(summaries, Fix(FIX, SNIPPET), EFFECT))


CHECK = Check(
    id="email.mta.auth_before_tls",
    category=Category.EMAIL_MTA,
    severity=Severity.HIGH,
    title=TITLE,
    references=(RFC4954, RFC8314),
    observer=MTA,
    evaluate=evaluate,
)
