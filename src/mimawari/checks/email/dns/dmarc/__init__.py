"""Email posture, DNS category: DMARC checks, one module each."""

from mimawari.checks.email.dns.dmarc import (
    alignment,
    discovery,
    policy,
    report_authorization,
    reporting,
    subdomain_policy,
    syntax,
    tags,
)

CHECKS = (
    # email.dmarc.policy stays first: reports and tests read it as the domain's headline DMARC finding.
    policy.CHECK,
    discovery.CHECK,
    syntax.CHECK,
    tags.CHECK,
    subdomain_policy.CHECK,
    alignment.CHECK,
    reporting.CHECK,
    report_authorization.CHECK,
)
