"""email.mailbox.discovered — which mailbox (IMAP, POP3) and submission services does the domain run?

Informational: it grades nothing about the services themselves, it says what the other mailbox checks
looked at. A when services were found (with each service and how it was found as evidence), N/A when
none was (a domain may well leave mailboxes to a provider it does not advertise), unknown when discovery
or the advertised services did not answer. Advertised services that refused the connection are listed:
clients told to use them fail.
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.mailbox.base import RFC6186, RFC8314_SRV, not_graded
from mimawari.model import Category, Evidence, Grade, Severity, Text, Verdict
from mimawari.observations.mailbox import MAILBOX, MailboxObservation, Reach

TITLE = Text("Mailbox and submission servers", "メールボックス／サブミッションサーバー")

FOUND = Text(
    "{count} mailbox or submission service(s) found: {services}.",
    "メールボックスまたはサブミッションのサービスが {count} 件見つかりました: {services}。",
)
ADVERTISED_DOWN = Text(
    " Advertised but not answering: {services}.",
    " 公開されているのに応答しないサービス: {services}。",
)


def evaluate(observation: MailboxObservation) -> Verdict:
    failed = not_graded(observation)
    if failed is not None:
        return failed
    present = observation.present
    down = [s for s in observation.services if s.advertised and s.reach in (Reach.REFUSED, Reach.UNKNOWN)]
    closed = [s for s in observation.services if not s.advertised and not s.present]
    evidence = [*(s.evidence(_how_found(s.advertised, s.session.describe())) for s in present)]
    evidence += [s.evidence(f"advertised, {s.reach.value}: {s.session.describe()}") for s in down]
    if closed:
        ports = ", ".join(f"{s.host}:{s.port}" for s in closed)
        evidence.append(Evidence("guessed ports closed or filtered", ports))
    evidence += observation.discovery_evidence()
    services = ", ".join(f"{s.service.value} {s.host}:{s.port}" for s in present)
    summary = FOUND.format(count=len(present), services=services)
    if down:
        more = ADVERTISED_DOWN.format(services=", ".join(s.label for s in down))
        summary = Text(summary.en + more.en, summary.ja + more.ja)
    return Verdict(Grade.A, summary, tuple(evidence))


def _how_found(advertised: bool, greeting: str) -> str:
    return f"{'advertised' if advertised else 'common name'}: {greeting}"


CHECK = Check(
    id="email.mailbox.discovered",
    category=Category.EMAIL_MAILBOX,
    severity=Severity.INFO,
    title=TITLE,
    references=(RFC6186, RFC8314_SRV),
    observer=MAILBOX,
    evaluate=evaluate,
)
