"""Email posture, DNS category: DMARC checks, one module each."""

from mimawari.checks.email.dns.dmarc import policy

CHECKS = (policy.CHECK,)
