"""Email posture, DNS category: DANE (RFC 7672) checks, one module each."""

from mimawari.checks.email.dns.dane import tlsa, usable

CHECKS = (tlsa.CHECK, usable.CHECK)
