"""email.mta.certificate — is each MX server's certificate trusted, for its host name, and in date?

A thin wrapper over ``checks.email.tls_grading.certificate_verdict``, shared with the mailbox category.
An untrusted chain or a certificate that does not name the MX host gets C here: most senders use
opportunistic TLS and deliver anyway, but MTA-STS senders (and DANE senders with PKIX usages) need a
valid certificate and refuse to deliver. Dates are judged at the scan's moment, so a replayed snapshot
gets the same grade.

Every MX address is handed over, not only those whose session reached TLS, so that one that timed out
counts as "could not be examined" (unknown) rather than as "no TLS" (N/A); a domain without mail
servers is N/A and one whose MX lookup failed is unknown before any TLS verdict.
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.mta.base import RFC8461_VALIDATION, mta_not_graded
from mimawari.checks.email.tls_grading import certificate_verdict
from mimawari.model import Category, Grade, Severity, Text, Verdict
from mimawari.observations.mta import MTA, MtaObservation

TITLE = Text("Certificate (MTA servers)", "証明書（MTA サーバー）")


def evaluate(observation: MtaObservation) -> Verdict:
    early = mta_not_graded(observation)
    if early is not None:
        return early
    return certificate_verdict(observation.tls_endpoints(), observation.observed_at, untrusted=Grade.C)


CHECK = Check(
    id="email.mta.certificate",
    category=Category.EMAIL_MTA,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(RFC8461_VALIDATION,),
    observer=MTA,
    evaluate=evaluate,
)
