"""email.mailbox.certificate — is each service's certificate trusted, for its name, and in date?

A thin wrapper over ``checks.email.tls_grading.certificate_verdict``, shared with the MTA category. A
certificate that does not chain to a trusted root or does not name the host gets E here, not the MTA
category's C: a mail client refuses the connection (or teaches its user to click the warning away),
where a sending MTA mostly falls back to unauthenticated TLS. Dates are judged at the scan's moment, so
a replayed snapshot gets the same grade. N/A without mailbox services, unknown when they could not be
found.
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.mailbox.base import RFC8314_CERTIFICATE, not_graded
from mimawari.checks.email.tls_grading import certificate_verdict
from mimawari.model import Category, Grade, Severity, Text, Verdict
from mimawari.observations.mailbox import MAILBOX, MailboxObservation

TITLE = Text("Certificate (mailbox servers)", "証明書（メールボックスサーバー）")


def evaluate(observation: MailboxObservation) -> Verdict:
    failed = not_graded(observation)
    if failed is not None:
        return failed
    return certificate_verdict(observation.tls_endpoints(), observation.observed_at, untrusted=Grade.E)


CHECK = Check(
    id="email.mailbox.certificate",
    category=Category.EMAIL_MAILBOX,
    severity=Severity.HIGH,
    title=TITLE,
    references=(RFC8314_CERTIFICATE,),
    observer=MAILBOX,
    evaluate=evaluate,
)
