"""Email posture, DNS category: MTA-STS checks (RFC 8461), one module each."""

from mimawari.checks.email.dns.mta_sts import mx_coverage, policy, policy_fetch, record

CHECKS = (record.CHECK, policy_fetch.CHECK, policy.CHECK, mx_coverage.CHECK)
