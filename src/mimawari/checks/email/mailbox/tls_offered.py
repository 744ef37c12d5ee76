"""email.mailbox.tls_offered — does every IMAP, POP3 and submission service offer TLS?

A mail client sends the user's password to these services, so a service with no TLS at all — a
cleartext port that offers no STARTTLS/STLS (RFC 2595 §3, §4; RFC 3207) — exposes every password to
anyone on the path: E. TLS offered but unusable (the upgrade is refused, or the handshake fails, on a
STARTTLS or an implicit-TLS port): D, since users are pushed to switch TLS off to read their mail. Every
service secured: A. The certificate and the protocol versions are graded by the TLS checks.
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.mailbox.base import (
    RFC2595,
    RFC8314_CLEARTEXT,
    TlsState,
    not_graded,
    secured,
    tls_state,
    undecided,
    with_services,
)
from mimawari.model import AfterFix, Category, Evidence, Fix, Grade, Severity, Text, Verdict
from mimawari.observations.mailbox import MAILBOX, MailboxObservation

TITLE = Text("TLS on mailbox and submission services", "メールボックス／サブミッションサービスの TLS")

SECURED = Text(
    "All {count} mailbox and submission service(s) protect the connection with TLS.",
    "メールボックス／サブミッションサービス {count} 件すべてが TLS で通信を保護しています。",
)
NO_TLS = Text(
    "{services} offer no TLS at all: passwords and mail cross the network in clear text.",
    "{services} は TLS をまったく提供していません。パスワードとメールが平文でネットワークを流れます。",
)
FAILED = Text(
    "{services} offer TLS but it does not work (upgrade refused or handshake failed), so users cannot "
    "connect securely.",
    "{services} は TLS を提供していますが機能していません（アップグレードの拒否またはハンドシェイクの失敗）。"
    "利用者は安全に接続できません。",
)
UNREAD = Text(
    "Could not tell whether {services} offer TLS: the session ended early. This is not a finding; scan "
    "again.",
    "{services} が TLS を提供しているか判定できませんでした（セッションが途中で終了）。問題が見つかったという"
    "意味ではありません。再度スキャンしてください。",
)
FIX = Text(
    "Enable TLS with a valid certificate on every mailbox and submission service, and require it. For "
    "example, Dovecot and Postfix:",
    "すべてのメールボックス／サブミッションサービスで、有効な証明書を使って TLS を有効にし、必須にして"
    "ください。Dovecot と Postfix の例:",
)
SNIPPET = """# Dovecot (conf.d/10-ssl.conf)
ssl = required
ssl_cert = </etc/ssl/certs/mail.example.com.pem
ssl_key = </etc/ssl/private/mail.example.com.key
# (Dovecot 2.4: ssl_server_cert_file / ssl_server_key_file)

# Postfix (master.cf): submission requires STARTTLS
submission inet n - y - - smtpd
  -o smtpd_tls_security_level=encrypt"""
EFFECT = Text(
    "Passwords and mail are encrypted between mail clients and the servers.",
    "メールクライアントとサーバーの間で、パスワードとメールが暗号化されます。",
)


def evaluate(observation: MailboxObservation) -> Verdict:
    failed = not_graded(observation)
    if failed is not None:
        return failed
    states = {i: tls_state(s) for i, s in enumerate(observation.services) if s.present}
    evidence = tuple(Evidence(observation.services[i].label, line) for i, (_state, line) in states.items())
    bare = [i for i, (state, _line) in states.items() if state is TlsState.NO_TLS]
    broken = [i for i, (state, _line) in states.items() if state is TlsState.FAILED]
    if not (bare or broken):
        if any(state is TlsState.UNDECIDED for state, _line in states.values()):
            labels = [
                observation.services[i].label for i, (s, _) in states.items() if s is TlsState.UNDECIDED
            ]
            return Verdict(Grade.UNKNOWN, UNREAD.format(services=", ".join(labels)), evidence)
        return undecided(observation, evidence) or Verdict(
            Grade.A, SECURED.format(count=len(states)), evidence
        )
    fixed = with_services(observation, {i: secured(observation.services[i]) for i in (*bare, *broken)})
    after = AfterFix(evaluate(fixed).grade, EFFECT)
    if bare:
        summary = NO_TLS.format(services=", ".join(observation.services[i].label for i in bare))
        return Verdict(Grade.E, summary, evidence, Fix(FIX, SNIPPET), after, Severity.CRITICAL)
    summary = FAILED.format(services=", ".join(observation.services[i].label for i in broken))
    return Verdict(Grade.D, summary, evidence, Fix(FIX, SNIPPET), after)


CHECK = Check(
    id="email.mailbox.tls_offered",
    category=Category.EMAIL_MAILBOX,
    severity=Severity.HIGH,
    title=TITLE,
    references=(RFC2595, RFC8314_CLEARTEXT),
    observer=MAILBOX,
    evaluate=evaluate,
)
