"""Email posture, DNS category: one module per check, listed here."""

from mimawari.checks.email.dns import dmarc_policy

CHECKS = (dmarc_policy.CHECK,)
