"""email.mailbox.certificate_key — are the certificate keys and signature algorithms strong enough?

A thin wrapper over ``checks.email.tls_grading.certificate_key_verdict``, shared with the MTA category:
every IMAP, POP3 and submission service that made a TLS handshake is graded on its own by the NCSC-NL
profile and the worst grade counts (the rules are in ``docs/tls.md``). N/A without mailbox services,
unknown when they could not be found.
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.mailbox.base import NCSC_TLS, not_graded
from mimawari.checks.email.tls_grading import certificate_key_verdict
from mimawari.model import Category, Severity, Text, Verdict
from mimawari.observations.mailbox import MAILBOX, MailboxObservation

TITLE = Text("Certificate key and signature (mailbox servers)", "証明書の鍵と署名（メールボックスサーバー）")


def evaluate(observation: MailboxObservation) -> Verdict:
    return not_graded(observation) or certificate_key_verdict(observation.tls_endpoints())


CHECK = Check(
    id="email.mailbox.certificate_key",
    category=Category.EMAIL_MAILBOX,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(NCSC_TLS,),
    observer=MAILBOX,
    evaluate=evaluate,
)
