"""email.mta.tls_versions — which TLS versions do the MX servers accept after STARTTLS?

A thin wrapper over ``checks.email.tls_grading.versions_verdict`` (TLS 1.3 good, 1.2 sufficient, 1.1 and
1.0 phase out, SSL insufficient, by the NCSC-NL profile), shared with the mailbox category.

Every MX address is handed over, not only those whose session reached TLS, so that one that timed out
counts as "could not be examined" (unknown) rather than as "no TLS" (N/A); a domain without mail
servers is N/A and one whose MX lookup failed is unknown before any TLS verdict.
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.mta.base import NCSC_TLS, mta_not_graded
from mimawari.checks.email.tls_grading import versions_verdict
from mimawari.model import Category, Severity, Text, Verdict
from mimawari.observations.mta import MTA, MtaObservation

TITLE = Text("TLS protocol versions (MTA servers)", "TLS のプロトコルバージョン（MTA サーバー）")


def evaluate(observation: MtaObservation) -> Verdict:
    early = mta_not_graded(observation)
    if early is not None:
        return early
    return versions_verdict(observation.tls_endpoints())


CHECK = Check(
    id="email.mta.tls_versions",
    category=Category.EMAIL_MTA,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(NCSC_TLS,),
    observer=MTA,
    evaluate=evaluate,
)
