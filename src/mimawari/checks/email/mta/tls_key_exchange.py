"""email.mta.tls_key_exchange — which key exchange groups do the MX servers accept?

A thin wrapper over ``checks.email.tls_grading.key_exchange_verdict`` (the worst accepted group by the
NCSC-NL profile; no forward secrecy at all is phase out), shared with the mailbox category.

Every MX address is handed over, not only those whose session reached TLS, so that one that timed out
counts as "could not be examined" (unknown) rather than as "no TLS" (N/A); a domain without mail
servers is N/A and one whose MX lookup failed is unknown before any TLS verdict.
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.mta.base import NCSC_TLS, mta_not_graded
from mimawari.checks.email.tls_grading import key_exchange_verdict
from mimawari.model import Category, Severity, Text, Verdict
from mimawari.observations.mta import MTA, MtaObservation

TITLE = Text("TLS key exchange (MTA servers)", "TLS の鍵交換（MTA サーバー）")


def evaluate(observation: MtaObservation) -> Verdict:
    early = mta_not_graded(observation)
    if early is not None:
        return early
    return key_exchange_verdict(observation.tls_endpoints())


CHECK = Check(
    id="email.mta.tls_key_exchange",
    category=Category.EMAIL_MTA,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(NCSC_TLS,),
    observer=MTA,
    evaluate=evaluate,
)
