"""Email posture, DNS category: BIMI checks, one module each."""

from mimawari.checks.email.dns.bimi import certificate, dmarc, logo, record

CHECKS = (record.CHECK, dmarc.CHECK, logo.CHECK, certificate.CHECK)
