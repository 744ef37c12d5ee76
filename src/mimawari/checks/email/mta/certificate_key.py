"""email.mta.certificate_key — are the MX certificates' keys and signatures strong enough?

A thin wrapper over ``checks.email.tls_grading.certificate_key_verdict`` (RSA ≥ 2048, EC ≥ P-256 or
EdDSA, SHA-256 or better, by the NCSC-NL profile), shared with the mailbox category.

Every MX address is handed over, not only those whose session reached TLS, so that one that timed out
counts as "could not be examined" (unknown) rather than as "no TLS" (N/A); a domain without mail
servers is N/A and one whose MX lookup failed is unknown before any TLS verdict.
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.mta.base import NCSC_TLS, mta_not_graded
from mimawari.checks.email.tls_grading import certificate_key_verdict
from mimawari.model import Category, Severity, Text, Verdict
from mimawari.observations.mta import MTA, MtaObservation

TITLE = Text("Certificate key and signature (MTA servers)", "証明書の鍵と署名（MTA サーバー）")


def evaluate(observation: MtaObservation) -> Verdict:
    early = mta_not_graded(observation)
    if early is not None:
        return early
    return certificate_key_verdict(observation.tls_endpoints())


CHECK = Check(
    id="email.mta.certificate_key",
    category=Category.EMAIL_MTA,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(NCSC_TLS,),
    observer=MTA,
    evaluate=evaluate,
)
