"""email.mailbox.tls_key_exchange — which key exchange groups (x25519, ffdhe …) do the services accept?

A thin wrapper over ``checks.email.tls_grading.key_exchange_verdict``, shared with the MTA category:
every IMAP, POP3 and submission service that made a TLS handshake is graded on its own by the NCSC-NL
profile and the worst grade counts (the rules are in ``docs/tls.md``). N/A without mailbox services,
unknown when they could not be found.
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.mailbox.base import NCSC_TLS, not_graded
from mimawari.checks.email.tls_grading import key_exchange_verdict
from mimawari.model import Category, Severity, Text, Verdict
from mimawari.observations.mailbox import MAILBOX, MailboxObservation

TITLE = Text("TLS key exchange groups (mailbox servers)", "TLS 鍵交換グループ（メールボックスサーバー）")


def evaluate(observation: MailboxObservation) -> Verdict:
    return not_graded(observation) or key_exchange_verdict(observation.tls_endpoints())


CHECK = Check(
    id="email.mailbox.tls_key_exchange",
    category=Category.EMAIL_MAILBOX,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(NCSC_TLS,),
    observer=MAILBOX,
    evaluate=evaluate,
)
