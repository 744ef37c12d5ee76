"""email.mailbox.implicit_tls — is implicit TLS offered (IMAP 993, POP3 995, submission 465)?

RFC 8314 §3 recommends implicit TLS for mail access and submission: the connection is encrypted from
its first byte, so there is no STARTTLS for an attacker to strip and no cleartext phase for a client to
fall back to. Port 465 is the registered submission port with implicit TLS (§3.3). For every host
and service (IMAP, POP3, submission) that answered: implicit TLS offered → A; only STARTTLS → B. When
the STARTTLS port stays open beside implicit TLS, the grade stays A and the summary says so: RFC 8314
accepts both during a transition, as long as the cleartext port requires TLS before login (graded by
email.mailbox.cleartext_login). Whether the TLS itself works is graded by the TLS checks.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from mimawari.check import Check
from mimawari.checks.email.mailbox.base import RFC8314_IMPLICIT, RFC8314_SUBMISSIONS, not_graded, undecided
from mimawari.model import AfterFix, Category, Evidence, Fix, Grade, Severity, Status, Text, Verdict
from mimawari.observations.mailbox import MAILBOX, MailboxObservation, MailboxService, MailService, Reach
from mimawari.probes import ServiceRequest, ServiceSession, TlsHandshake

TITLE = Text("Implicit TLS (RFC 8314)", "暗黙的 TLS（RFC 8314）")

IMPLICIT = Text(
    "Implicit TLS is offered for {groups}.",
    "{groups} で暗黙的 TLS が提供されています。",
)
ALONGSIDE = Text(
    " The STARTTLS ports {ports} are open too; keep them requiring TLS before login, or close them once "
    "clients have moved.",
    " STARTTLS のポート {ports} も開いています。ログイン前の TLS を必須にしておくか、クライアントの移行後に"
    "閉じてください。",
)
STARTTLS_ONLY = Text(
    "Only STARTTLS is offered for {groups}: no implicit TLS on 993 / 995 / 465. STARTTLS starts in clear "
    "text, where an attacker can strip it; RFC 8314 recommends implicit TLS.",
    "{groups} では STARTTLS しか提供されていません（993 / 995 / 465 の暗黙的 TLS がありません）。STARTTLS "
    "は平文で始まるため攻撃者に除去される可能性があり、RFC 8314 は暗黙的 TLS を推奨しています。",
)
FIX = Text(
    "Offer implicit TLS beside STARTTLS and tell clients about it with SRV records. For example:",
    "STARTTLS に加えて暗黙的 TLS を提供し、SRV レコードでクライアントに知らせてください。設定例:",
)
EFFECT = Text(
    "Clients can connect with TLS from the first byte, with no cleartext phase to attack.",
    "クライアントは最初のバイトから TLS で接続でき、攻撃される平文の段階がなくなります。",
)
IMPLICIT_OF = {"IMAP": MailService.IMAPS, "POP3": MailService.POP3S, "submission": MailService.SUBMISSIONS}
DOVECOT_IMAPS = """# Dovecot (conf.d/10-master.conf)
service imap-login {
  inet_listener imaps {
    port = 993
    ssl = yes
  }
}"""
DOVECOT_POP3S = """# Dovecot (conf.d/10-master.conf)
service pop3-login {
  inet_listener pop3s {
    port = 995
    ssl = yes
  }
}"""
POSTFIX_SUBMISSIONS = """# Postfix (master.cf)
submissions inet n - y - - smtpd
  -o syslog_name=postfix/submissions
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes"""
LISTENERS = {"IMAP": DOVECOT_IMAPS, "POP3": DOVECOT_POP3S, "submission": POSTFIX_SUBMISSIONS}


@dataclass(frozen=True)
class Group:
    """One host's IMAP, POP3 or submission service, over all its ports."""

    host: str
    family: str
    services: tuple[MailboxService, ...]

    @property
    def label(self) -> str:
        return f"{self.family} on {self.host}"

    @property
    def implicit(self) -> bool:
        return any(s.service.implicit_tls for s in self.services)

    @property
    def cleartext_ports(self) -> tuple[MailboxService, ...]:
        return tuple(s for s in self.services if not s.service.implicit_tls)


def groups(observation: MailboxObservation) -> tuple[Group, ...]:
    keys = dict.fromkeys((s.host, s.service.family) for s in observation.present)
    return tuple(
        Group(
            host,
            family,
            tuple(s for s in observation.present if (s.host, s.service.family) == (host, family)),
        )
        for host, family in keys
    )


def _implicit_undecided(observation: MailboxObservation, group: Group) -> bool:
    """Whether an implicit-TLS candidate of the group's host and service never answered."""
    return any(
        s.reach is Reach.UNKNOWN
        and s.service.implicit_tls
        and (s.host, s.service.family) == (group.host, group.family)
        for s in observation.services
    )


def _with_implicit(observation: MailboxObservation, lacking: list[Group]) -> MailboxObservation:
    """The observation once each group in ``lacking`` also answers with implicit TLS."""
    added = []
    for group in lacking:
        service = IMPLICIT_OF[group.family]
        for address in dict.fromkeys(s.address for s in group.services):
            request = ServiceRequest(service.protocol, group.host, address, service.port, implicit_tls=True)
            session = ServiceSession(request, Status.PRESENT, tls=TlsHandshake(Status.PRESENT, "TLSv1.3"))
            added.append(MailboxService(group.host, service, True, session))
    return replace(observation, services=(*observation.services, *added))


def _snippet(observation: MailboxObservation, lacking: list[Group]) -> str:
    families = list(dict.fromkeys(g.family for g in lacking))
    services = [(IMPLICIT_OF[g.family], g.host) for g in lacking]
    records = [f"{s.srv_name(observation.domain)}. IN SRV 0 1 {s.port} {name}." for s, name in services]
    return "\n\n".join([*(LISTENERS[f] for f in families), "# DNS (RFC 8314 §5.1)\n" + "\n".join(records)])


def evaluate(observation: MailboxObservation) -> Verdict:
    failed = not_graded(observation)
    if failed is not None:
        return failed
    found = groups(observation)
    evidence = tuple(
        Evidence(g.label, ", ".join(f"{s.port} ({s.service.value}, {s.reach.value})" for s in g.services))
        for g in found
    )
    lacking = [g for g in found if not g.implicit and not _implicit_undecided(observation, g)]
    if lacking:
        summary = STARTTLS_ONLY.format(groups=", ".join(g.label for g in lacking))
        fix = Fix(FIX, _snippet(observation, lacking))
        after = AfterFix(evaluate(_with_implicit(observation, lacking)).grade, EFFECT)
        return Verdict(Grade.B, summary, evidence, fix, after)
    waiting = undecided(observation, evidence)
    if waiting is not None:
        return waiting
    summary = IMPLICIT.format(groups=", ".join(g.label for g in found))
    alongside = [s for g in found for s in g.cleartext_ports]
    if alongside:
        more = ALONGSIDE.format(ports=", ".join(f"{s.host}:{s.port}" for s in alongside))
        summary = Text(summary.en + more.en, summary.ja + more.ja)
    return Verdict(Grade.A, summary, evidence)


CHECK = Check(
    id="email.mailbox.implicit_tls",
    category=Category.EMAIL_MAILBOX,
    severity=Severity.LOW,
    title=TITLE,
    references=(RFC8314_IMPLICIT, RFC8314_SUBMISSIONS),
    observer=MAILBOX,
    evaluate=evaluate,
)
