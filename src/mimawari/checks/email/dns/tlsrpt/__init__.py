"""Email posture, DNS category: TLS-RPT checks (RFC 8460), one module each."""

from mimawari.checks.email.dns.tlsrpt import record

CHECKS = (record.CHECK,)
