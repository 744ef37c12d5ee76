"""email.mailbox.tls_versions — which TLS versions do the services accept (SSLv3 … TLS 1.3)?

A thin wrapper over ``checks.email.tls_grading.versions_verdict``, shared with the MTA category: every
IMAP, POP3 and submission service that made a TLS handshake is graded on its own by the NCSC-NL profile
and the worst grade counts (the rules are in ``docs/tls.md``). N/A without mailbox services, unknown when
they could not be found.
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.mailbox.base import NCSC_TLS, RFC8996, not_graded
from mimawari.checks.email.tls_grading import versions_verdict
from mimawari.model import Category, Severity, Text, Verdict
from mimawari.observations.mailbox import MAILBOX, MailboxObservation

TITLE = Text(
    "TLS protocol versions (mailbox servers)", "TLS プロトコルのバージョン（メールボックスサーバー）"
)


def evaluate(observation: MailboxObservation) -> Verdict:
    return not_graded(observation) or versions_verdict(observation.tls_endpoints())


CHECK = Check(
    id="email.mailbox.tls_versions",
    category=Category.EMAIL_MAILBOX,
    severity=Severity.HIGH,
    title=TITLE,
    references=(NCSC_TLS, RFC8996),
    observer=MAILBOX,
    evaluate=evaluate,
)
