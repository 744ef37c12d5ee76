"""email.mailbox.cleartext_login — is a password login offered before TLS?

On a cleartext port (IMAP 143, POP3 110, submission 587) a server should refuse password logins until
STARTTLS/STLS has run (RFC 2595 §2.3, RFC 9051 §6.2.3, RFC 4954 §4). Offered before TLS:

* IMAP without ``LOGINDISABLED`` (the LOGIN command works), or with ``AUTH=PLAIN`` / ``AUTH=LOGIN``;
* POP3 with ``USER`` (USER/PASS), or ``SASL PLAIN`` / ``LOGIN`` in CAPA;
* submission with ``AUTH PLAIN`` / ``LOGIN`` in the EHLO reply before STARTTLS.

Mechanisms that send the password or a bearer token itself count (PLAIN, LOGIN, XOAUTH2, OAUTHBEARER);
challenge-response ones (CRAM-MD5, SCRAM) do not. A login offered where STARTTLS is also offered is
D: a client that does not insist on TLS, or an attacker who strips STARTTLS from the capability list,
sends the password in clear. A login offered with no TLS at all is E: every login is in clear. Implicit
TLS ports are not concerned.
"""

from __future__ import annotations

from dataclasses import replace

from mimawari.check import Check
from mimawari.checks.email.mailbox.base import (
    RFC2595_CLEARTEXT,
    RFC4954,
    RFC9051_LOGIN,
    not_graded,
    undecided,
    with_services,
)
from mimawari.model import AfterFix, Category, Evidence, Fix, Grade, Severity, Text, Verdict
from mimawari.observations.mailbox import MAILBOX, MailboxObservation, MailboxService, Reach
from mimawari.probes import MailProtocol

TITLE = Text("Password login before TLS", "TLS 開始前のパスワードログイン")

PASSWORD_MECHANISMS = frozenset({"PLAIN", "LOGIN", "XOAUTH2", "OAUTHBEARER"})
"""SASL mechanisms that carry the password (or a bearer token) itself, readable by anyone before TLS."""

CLEAN = Text(
    "No service offers a password login before TLS ({count} cleartext port(s) checked).",
    "TLS 開始前にパスワードログインを受け付けるサービスはありません（平文ポート {count} 件を確認）。",
)
IMPLICIT_ONLY = Text(
    "Only implicit TLS ports answered: every login is protected by TLS.",
    "応答したのは暗黙的 TLS のポートだけで、すべてのログインが TLS で保護されています。",
)
BEFORE_STARTTLS = Text(
    "{services} accept a password login before STARTTLS: a client that does not insist on TLS, or an "
    "attacker who removes STARTTLS from the reply, gets the password sent in clear text.",
    "{services} は STARTTLS の前にパスワードログインを受け付けます。TLS を必須にしていないクライアントや、"
    "応答から STARTTLS を削除する攻撃者により、パスワードが平文で送信されます。",
)
WITHOUT_TLS = Text(
    "{services} accept a password login and offer no TLS: every password is sent in clear text.",
    "{services} はパスワードログインを受け付けますが TLS を提供していないため、すべてのパスワードが平文で"
    "送信されます。",
)
UNREAD = Text(
    "Could not tell whether {services} offer a login before TLS: no capability list was received. This "
    "is not a finding; scan again.",
    "{services} が TLS 開始前にログインを受け付けるか判定できませんでした（機能一覧を受信できませんでした）。"
    "問題が見つかったという意味ではありません。再度スキャンしてください。",
)
FIX = Text(
    "Allow password logins only after TLS. Dovecot (IMAP, POP3) and Postfix (submission):",
    "パスワードログインは TLS の開始後だけ許可してください。Dovecot（IMAP、POP3）と Postfix（サブミッション）"
    "の設定:",
)
DOVECOT = """# Dovecot 2.3 (conf.d/10-auth.conf)
disable_plaintext_auth = yes
# Dovecot 2.4
auth_allow_cleartext = no"""
POSTFIX = """# Postfix (main.cf)
smtpd_tls_auth_only = yes"""
EFFECT = Text(
    "Servers advertise no password login until the connection is encrypted (IMAP announces LOGINDISABLED).",
    "接続が暗号化されるまでパスワードログインが提示されなくなります（IMAP は LOGINDISABLED を通知します）。",
)


def _words(capabilities: tuple[str, ...]) -> list[list[str]]:
    return [line.upper().split() for line in capabilities if line.split()]


def _mechanisms(words: list[str]) -> list[str]:
    """The mechanisms of ``AUTH PLAIN LOGIN``, ``AUTH=PLAIN LOGIN`` (old form) or ``SASL PLAIN``."""
    first, rest = words[0], words[1:]
    listed = [first.split("=", 1)[1], *rest] if "=" in first else rest
    return [m for m in listed if m in PASSWORD_MECHANISMS]


def cleartext_logins(service: MailboxService) -> tuple[str, ...] | None:
    """The password logins the service offers before TLS; None when its capabilities are unknown."""
    words = _words(service.session.capabilities)
    if not words:
        return None
    keywords = {w[0] for w in words}
    protocol = service.service.protocol
    offered: list[str] = []
    if protocol is MailProtocol.IMAP:
        offered += [] if "LOGINDISABLED" in keywords else ["LOGIN"]
        offered += [w[0] for w in words if w[0].startswith("AUTH=") and w[0][5:] in PASSWORD_MECHANISMS]
    elif protocol is MailProtocol.POP3:
        offered += ["USER/PASS"] if "USER" in keywords else []
        offered += [f"SASL {m}" for w in words if w[0] == "SASL" for m in _mechanisms(w)]
    else:
        offered += [f"AUTH {m}" for w in words if w[0].split("=", 1)[0] == "AUTH" for m in _mechanisms(w)]
    return tuple(dict.fromkeys(offered))


def _locked(service: MailboxService) -> MailboxService:
    """The service once logins wait for TLS (for the after-fix grade)."""
    kept = []
    for line in service.session.capabilities:
        words = line.upper().split()
        keyword = words[0] if words else ""
        if keyword in ("USER", "SASL") or keyword.split("=", 1)[0] == "AUTH":
            continue
        kept.append(line)
    if service.service.protocol is MailProtocol.IMAP:
        kept.append("LOGINDISABLED")
    return replace(service, session=replace(service.session, capabilities=tuple(kept)))


def evaluate(observation: MailboxObservation) -> Verdict:
    failed = not_graded(observation)
    if failed is not None:
        return failed
    cleartext = {
        i: s
        for i, s in enumerate(observation.services)
        if s.reach is Reach.ANSWERED and not s.service.implicit_tls
    }
    logins = {i: cleartext_logins(s) for i, s in cleartext.items()}
    evidence = tuple(
        Evidence(cleartext[i].label, f"before TLS: {' '.join(cleartext[i].session.capabilities) or '(none)'}")
        for i in logins
    )
    exposed = [i for i, offered in logins.items() if offered]
    if exposed:
        return _exposed(observation, exposed, logins, evidence)
    unread = [cleartext[i].label for i, offered in logins.items() if offered is None]
    if unread:
        return Verdict(Grade.UNKNOWN, UNREAD.format(services=", ".join(unread)), evidence)
    summary = CLEAN.format(count=len(cleartext)) if cleartext else IMPLICIT_ONLY
    return undecided(observation, evidence) or Verdict(Grade.A, summary, evidence)


def _exposed(
    observation: MailboxObservation,
    exposed: list[int],
    logins: dict[int, tuple[str, ...] | None],
    evidence: tuple[Evidence, ...],
) -> Verdict:
    services = observation.services
    bare = [i for i in exposed if not services[i].session.starttls_offered]
    chosen = bare or exposed
    labels = ", ".join(f"{services[i].label} ({', '.join(logins[i] or ())})" for i in chosen)
    protocols = {services[i].service.protocol for i in exposed}
    snippets = [DOVECOT] if protocols & {MailProtocol.IMAP, MailProtocol.POP3} else []
    snippets += [POSTFIX] if MailProtocol.SMTP in protocols else []
    fixed = with_services(observation, {i: _locked(services[i]) for i in exposed})
    fix, after = Fix(FIX, "\n\n".join(snippets)), AfterFix(evaluate(fixed).grade, EFFECT)
    if bare:
        return Verdict(Grade.E, WITHOUT_TLS.format(services=labels), evidence, fix, after, Severity.CRITICAL)
    return Verdict(Grade.D, BEFORE_STARTTLS.format(services=labels), evidence, fix, after)


CHECK = Check(
    id="email.mailbox.cleartext_login",
    category=Category.EMAIL_MAILBOX,
    severity=Severity.HIGH,
    title=TITLE,
    references=(RFC2595_CLEARTEXT, RFC9051_LOGIN, RFC4954),
    observer=MAILBOX,
    evaluate=evaluate,
)
